"""runner.py — `rumor-scenario FILE [--quick] [--out DIR]`: start the cluster, play the
timeline, poll /status, stop everything, check the expectations, report.

Exit codes: 0 every expectation held, 1 one failed (or the run could not complete),
2 a bad scenario file or command line, 77 skipped: the scenario needs what this machine lacks
(network = "netns": root, ip, tc, iptables), 130 interrupted (after a clean shutdown).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from . import expectations, report
from .cluster import CLEAR_FAULTS, COUNTERS, Cluster, PeerError
from .expectations import Outcome, PeerOutcome
from .netns import Network, NetnsUnavailable
from .params import consensus_distance, read_params
from .spec import Scenario, SpecError, load
from .timeline import PeerView, Timeline, partition_sets

ROOT = Path(__file__).resolve().parents[2]
MARKER = "scenario.json"
SKIPPED = 77   # the exit code test harnesses (Meson, Automake) read as "skipped"


class Interrupted(Exception):
    pass


def _on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


def _prepare_out(out: Path) -> None:
    """An empty output folder; a previous scenario output (with its marker) is replaced."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise SpecError(f"--out {out}: exists, is not empty and is not a scenario output "
                            f"folder (no {MARKER}); choose another folder")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _last_record(path: Path) -> dict | None:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


def _logged_drop_reasons(peers) -> list[str]:
    """The reasons in the peers' `dropped a message from peer N: REASON` log lines."""
    reasons = set()
    for p in peers:
        try:
            text = (p.out / "peer.log").read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if "dropped a message from peer" in line:
                reasons.add(line.rsplit(":", 1)[-1].strip())
    return sorted(reasons)


class Run:
    def __init__(self, scenario: Scenario, rumor: str, out: Path, poll: float,
                 network: Network | None = None):
        self.scenario = scenario
        self.out = out
        self.poll_s = poll
        self.network = network
        self.cluster = Cluster(rumor, scenario, out, log=self.say, network=network)
        self.timeline = Timeline(scenario.events, scenario.cluster.peers, scenario.cluster.seed)
        self.rumor = rumor
        self.started = time.monotonic()
        self.t0: float | None = None
        self.rows: list[dict] = []
        self.events: list[dict] = []
        self.timed_out = False
        self.error: str | None = None
        self.status_file = open(out / "status.jsonl", "w")

    def say(self, text: str) -> None:
        t = time.monotonic() - (self.t0 if self.t0 is not None else self.started)
        print(f"[{t:6.1f} s] {text}", flush=True)

    def progress(self, now: float, every: float = 2.0) -> None:
        """Every `every` seconds of training: one line with each peer's step and accuracy."""
        if self.t0 is None or now - getattr(self, "last_progress", 0.0) < every:
            return
        self.last_progress = now
        parts = []
        for p in self.cluster.peers:
            status = p.status or {}
            acc = status.get("test_accuracy")
            state = "" if p.state == "running" else f" ({p.state})"
            parts.append(f"r{p.rank} step {p.step}" + (f" acc {acc:.3f}" if acc is not None
                                                         else "") + state)
        self.say("steps: " + " | ".join(parts))

    def view(self) -> PeerView:
        peers = self.cluster.peers
        return PeerView(running={p.rank for p in peers if p.state == "running"},
                        paused={p.rank for p in peers if p.state == "paused"},
                        killed={p.rank for p in peers if p.state == "killed"})

    def apply(self, firing) -> None:
        e, c = firing.event, self.cluster
        label = f"{e.action} " + (f"peer(s) {firing.targets} " if e.action not in
                                  ("partition", "heal", "churn") else "")
        label += " ".join(f"{k}={v}" for k, v in e.params.items())
        if firing.churn:
            label = "churn: " + label
        self.events.append({"t": round(firing.time, 3), "index": e.index, "action": e.action,
                            "targets": firing.targets, "params": e.params,
                            "skipped": firing.skipped, "churn": firing.churn})
        if firing.skipped:
            self.say(f"event {e.index} ({e.describe()}): {firing.skipped}")
        else:
            self.say(f"event {e.index}: {label}")
        for r in firing.targets:
            if e.action == "kill":
                c.kill(r)
            elif e.action == "restart":
                c.restart(r)
            elif e.action == "pause":
                c.pause(r)
            elif e.action == "resume":
                c.resume(r)
            elif e.action == "slow":
                c.want_faults(r, {"slowdown": e.params["factor"]})
            elif e.action in ("drop", "duplicate", "corrupt"):
                c.want_faults(r, {e.action: e.params["p"]})
            elif e.action == "delay":
                c.want_faults(r, {"delay_ms": e.params["ms"],
                                  "jitter_ms": e.params.get("jitter-ms", 0)})
            elif e.action == "byzantine":
                c.want_faults(r, {"byzantine": e.params["mode"]})
            elif e.action == "heal":
                c.want_faults(r, {"partition": []})
            elif e.action == "clear":
                c.want_faults(r, dict(CLEAR_FAULTS))
            elif e.action == "bandwidth":
                self.network.set_bandwidth(r, e.params["mbit"])
            elif e.action == "loss":
                self.network.set_loss(r, e.params["p"])
            elif e.action == "fail-replica":
                c.fail_replica(r, e.params["replica"])
        if e.action == "partition":
            for r, cut in partition_sets(e.params["groups"], len(c.peers)).items():
                c.want_faults(r, {"partition": cut})

    def record(self, now: float) -> None:
        t = now - (self.t0 if self.t0 is not None else self.started)
        for p in self.cluster.peers:
            if p.status is None or p.state not in ("running",):
                continue
            self.rows.append(report.sample_row(t, p.rank, p.state, p.status))
            self.status_file.write(json.dumps({"t": round(t, 3), "rank": p.rank,
                                               "status": p.status}) + "\n")
        self.status_file.flush()

    def loop(self) -> None:
        c = self.scenario.cluster
        self.cluster.start_all()
        self.say(f"started {c.peers} peers: {' '.join(c.peer_args())}")
        while True:
            self.cluster.poll()
            now = time.monotonic()
            peers = self.cluster.peers
            if self.t0 is None:
                # A peer may finish a tiny run between two polls: exited counts as started.
                if all(p.step >= 1 or p.state == "exited" for p in peers):
                    self.t0 = now
                    for p in peers:
                        p.max_stall, p.last_progress = 0.0, now
                    self.say(f"training started after {now - self.started:.1f} s")
                elif any(p.unexpected_exits for p in peers):
                    self.error = "a peer failed before training started (see its peer.log)"
                    return
                elif now - self.started > c.startup_timeout:
                    self.error = (f"not every peer took a step within cluster.startup-timeout "
                                  f"= {c.startup_timeout:g} s")
                    return
            else:
                steps = {p.rank: p.step for p in peers if p.state == "running"}
                for firing in self.timeline.due(now - self.t0, steps, self.view()):
                    self.apply(firing)
            self.record(now)
            self.progress(now)
            if self.t0 is not None and not self.cluster.running():
                pending_restart = any(k == "restart" for _, k, _ in self.timeline.background)
                nxt = self.timeline.pending[0] if self.timeline.pending else None
                if not pending_restart and (nxt is None or nxt.step is not None):
                    return
            if now - self.started > c.timeout:
                self.timed_out = True
                self.say(f"cluster.timeout = {c.timeout:g} s reached: stopping the peers")
                return
            time.sleep(self.poll_s)

    def outcome(self) -> Outcome:
        c = self.scenario.cluster
        peers = []
        finished_params = []
        for p in self.cluster.peers:
            record = _last_record(p.out / "metrics.jsonl")
            finished = (p.state == "exited" and not p.unexpected_exits and record is not None
                        and record.get("event") == "summary")
            o = PeerOutcome(rank=p.rank, survivor=p.state != "killed", finished=finished,
                            max_stall=p.max_stall, unexpected_exits=list(p.unexpected_exits))
            if finished:
                o.final_accuracy = record.get("test_accuracy")
                o.final_step = record.get("step")
                o.total_steps = record.get("total_steps")
                if (p.out / "params.bin").exists():
                    finished_params.append(p.out / "params.bin")
            peers.append(o)
        outcome = Outcome(peers=peers, timed_out=self.timed_out, error=self.error,
                          **{c: sum(p.total(c) for p in self.cluster.peers) for c in COUNTERS},
                          rejected_reasons=_logged_drop_reasons(self.cluster.peers))
        outcome.unfired = [e.describe() for e in self.timeline.pending]
        outcome.skipped = [f"event {e['index']} ({e['action']}): {e['skipped']}"
                           for e in self.events if e["skipped"] and not e["churn"]]
        self.distance_mean = None
        if finished_params:
            args = [self.rumor, "eval", "--json", "--average", *map(str, finished_params)]
            if "limit-test" in c.options:
                args[2:2] = ["--limit-test", str(c.options["limit-test"])]
            result = subprocess.run(args, capture_output=True, text=True)
            if result.returncode == 0:
                try:
                    outcome.consensus_accuracy = json.loads(result.stdout)["test_accuracy"]
                except (ValueError, KeyError):
                    self.say(f"rumor eval --average: unexpected output: {result.stdout[:300]}")
            else:
                self.say(f"rumor eval --average failed: {result.stderr.strip()[-300:]}")
            try:
                arenas = [read_params(path)[1] for path in finished_params]
                outcome.consensus_distance, self.distance_mean = consensus_distance(arenas)
            except ValueError as error:
                self.say(f"consensus distance: {error}")
        return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="rumor-scenario",
        description="Run a failure-injection scenario on a local rumor cluster and check its "
                    "expectations (docs/SCENARIOS.md).")
    parser.add_argument("file", help="scenario file (TOML)")
    parser.add_argument("--quick", action="store_true",
                        help="apply the file's [quick] table (the short CI form)")
    parser.add_argument("--out", help="output folder (default runs/scenarios/NAME[-quick]); "
                                      "a previous scenario output there is replaced")
    parser.add_argument("--rumor", default=os.environ.get(
        "RUMOR_BIN", str(ROOT / "build/src/peer/rumor")), help="the rumor binary")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between /status polls")
    parser.add_argument("--check", action="store_true",
                        help="only parse and validate the file, print its timeline, and exit")
    args = parser.parse_args(argv)
    try:
        scenario = load(args.file, args.quick)
    except SpecError as error:
        print(f"rumor-scenario: error: {error}", file=sys.stderr)
        return 2
    print(f"scenario {scenario.name}{' (quick)' if args.quick else ''}: {scenario.description}")
    for e in scenario.events:
        print(f"  event {e.index}: {e.describe()}")
    if args.check:
        return 0
    if not os.access(args.rumor, os.X_OK):
        print(f"rumor-scenario: error: --rumor {args.rumor}: not an executable (build first)",
              file=sys.stderr)
        return 2
    out = Path(args.out or f"runs/scenarios/{scenario.name}{'-quick' if args.quick else ''}")
    out = out.resolve()
    try:
        _prepare_out(out)
    except SpecError as error:
        print(f"rumor-scenario: error: {error}", file=sys.stderr)
        return 2
    report.write_json(out / MARKER, {"file": str(Path(args.file).resolve()),
                                     "quick": args.quick, "scenario": asdict(scenario)})
    network = None
    if scenario.cluster.network == "netns":
        network = Network(scenario.cluster.peers)
        try:
            network.setup()
        except NetnsUnavailable as error:
            print(f"rumor-scenario: skipped: {error}", file=sys.stderr)
            return SKIPPED
        print(f"network: {scenario.cluster.peers} namespaces {network.name}-N on "
              f"{network.subnet}.0/24, joined by veth through a bridge")
    run = Run(scenario, args.rumor, out, args.poll, network)
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    interrupted = None
    try:
        run.loop()
    except Interrupted as signal_name:
        interrupted = str(signal_name)
    except (PeerError, NetnsUnavailable) as error:
        run.error = str(error)
    finally:
        # A second Ctrl-C must not cut the shutdown short.
        for s in previous:
            signal.signal(s, signal.SIG_IGN)
        run.cluster.shutdown()
        run.status_file.close()
        if network is not None:
            network.teardown()
        for s, handler in previous.items():
            signal.signal(s, handler)
    if interrupted:
        print(f"rumor-scenario: interrupted by {interrupted}; every peer stopped "
              f"(output in {out})", file=sys.stderr)
        return 130
    outcome = run.outcome()
    checks = expectations.check(scenario.expect, outcome)
    report.write_samples(out, run.rows, scenario.cluster.peers)
    with open(out / "events.jsonl", "w") as f:
        for e in run.events:
            f.write(json.dumps(e) + "\n")
    report.write_json(out / "summary.json", {
        "name": scenario.name, "quick": args.quick, "passed": expectations.passed(checks),
        "consensus_accuracy": outcome.consensus_accuracy,
        "consensus_distance": outcome.consensus_distance,
        "consensus_distance_mean": run.distance_mean,
        "outcome": asdict(outcome), "checks": [asdict(c) for c in checks]})
    print()
    print(report.summary(scenario.name, outcome, run.cluster.peers, checks))
    report.render_plots(out)
    print(f"output: {out}")
    return 0 if expectations.passed(checks) else 1

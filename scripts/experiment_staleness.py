#!/usr/bin/env python3
"""Choose the staleness defaults by experiment: 4 `rumor peer` processes on ipc sockets, rank 3 a
4x straggler (--slowdown 4), for each rule that honours staleness (average, robust-push-sum)
over half-life x max-staleness, several seeds. Prints, per setting, the median over seeds of

  final acc   mean over the 4 peers of their final test accuracy (first --limit-test examples);
  t(0.87)     training seconds (evaluation excluded: metrics `train_seconds`) until a peer's
              test accuracy first reaches 0.87, median over the 4 peers ('-': not reached);
  dropped     share of parameter messages the staleness policy dropped (dropped_stale /
              (received + dropped_stale), all peers),

with the range over seeds in brackets. Runs are ordered seed by seed, so that drifting machine
load hits every setting alike. --distribution instead measures how stale messages are: with
half-life 0 and max-staleness m, the dropped share is the share of messages staler than m.
--jitter-ms N delays every message by a uniform 0..N ms (the peers' fault injection, set with
`rumor ctl ADDR faults` once they are up): on loopback, messages are otherwise never stale.

    scripts/experiment_staleness.py                       # the grid (about 25 min on 2 cores)
    scripts/experiment_staleness.py --distribution --seeds 1
    scripts/experiment_staleness.py --table-only          # re-print from the results file

Every run appends one JSON line to OUT/results.jsonl (default runs/staleness); runs already in
it are skipped, so an interrupted experiment continues where it stopped.
Plain standard library: runs under any python3.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = 4
STRAGGLER = 3
TARGET = 0.87


def peer_summary(metrics_path):
    """Final accuracy, first train_seconds at >= TARGET (or None), received, dropped_stale."""
    records = [json.loads(line) for line in metrics_path.read_text().splitlines() if line]
    evals = [r for r in records if r.get("event") == "eval"]
    final = [r for r in records if r.get("event") == "summary"][-1]
    reached = [r["train_seconds"] for r in evals if r["test_accuracy"] >= TARGET]
    gossip = final["gossip"]
    return {"accuracy": final["test_accuracy"], "t_target": reached[0] if reached else None,
            "received": gossip["received"], "dropped_stale": gossip["dropped_stale"]}


def set_jitter(args, work, jitter_ms):
    """Waits for every peer's http.addr, then sets its jitter."""
    deadline = time.monotonic() + 60
    for rank in range(PEERS):
        addr = work / f"peer-{rank}" / "http.addr"
        while not addr.exists() or not addr.read_text().strip():
            if time.monotonic() > deadline:
                sys.exit(f"experiment_staleness: rank {rank} wrote no {addr}")
            time.sleep(0.05)
        subprocess.run([args.rumor, "ctl", addr.read_text().strip(), "faults",
                        "--jitter-ms", str(jitter_ms)], check=True, capture_output=True)


def run_cluster(args, rule, half_life, max_staleness, seed):
    """Runs the 4 peers to the end; returns one result record."""
    work = Path(tempfile.mkdtemp(prefix="rumor-st-"))  # short: ipc paths are length-limited
    try:
        peers_file = work / "peers.txt"
        peers_file.write_text("".join(f"ipc://{work}/p{r}\n" for r in range(PEERS)))
        processes = []
        started = time.monotonic()
        for rank in range(PEERS):
            command = [args.rumor, "peer", "--peers", str(peers_file), "--rank", str(rank),
                       "--out", str(work / f"peer-{rank}"), "-q",
                       *(["--enable-faults"] if args.jitter_ms else ["--http", "off"]),
                       "--rule", rule, "--staleness-half-life", str(half_life),
                       "--max-staleness", str(max_staleness), "--seed", str(seed),
                       "--epochs", str(args.epochs), "--eval-every", "20",
                       "--limit-test", "2000",
                       "--slowdown", "4" if rank == STRAGGLER else "1"]
            log = open(work / f"peer-{rank}.log", "w")
            processes.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), log))
        if args.jitter_ms:
            set_jitter(args, work, args.jitter_ms)
        for process, log in processes:
            process.wait()
            log.close()
        wall = time.monotonic() - started
        failed = [r for r, (p, _) in enumerate(processes) if p.returncode != 0]
        if failed:
            tail = (work / f"peer-{failed[0]}.log").read_text(errors="replace")[-800:]
            sys.exit(f"experiment_staleness: rank {failed[0]} failed:\n{tail}")
        peers = [peer_summary(work / f"peer-{r}" / "metrics.jsonl") for r in range(PEERS)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"rule": rule, "half_life": half_life, "max_staleness": max_staleness, "seed": seed,
            "epochs": args.epochs, "jitter_ms": args.jitter_ms, "wall_seconds": round(wall, 1),
            "load_average": os.getloadavg()[0], "peers": peers}


def key(record):
    return (record["rule"], record["half_life"], record["max_staleness"], record["seed"],
            record["epochs"], record.get("jitter_ms", 0))


def run_figures(record):
    """Figures of one run: final acc, t(0.87) (inf: not reached by most peers), dropped share."""
    peers = record["peers"]
    accuracy = statistics.mean(p["accuracy"] for p in peers)
    t_target = statistics.median(p["t_target"] if p["t_target"] is not None else float("inf")
                                 for p in peers)
    received = sum(p["received"] for p in peers)
    dropped = sum(p["dropped_stale"] for p in peers)
    return accuracy, t_target, dropped / max(1, received + dropped)


def cell(values, fmt):
    """'median [min-max]' over seeds."""
    show = lambda v: "-" if v == float("inf") else fmt.format(v)
    if len(values) == 1:
        return show(values[0])
    return f"{show(statistics.median(values))} [{show(min(values))}-{show(max(values))}]"


def print_tables(records, rules, half_lives, max_stalenesses, epochs, jitter_ms):
    records = [r for r in records if r["epochs"] == epochs and r.get("jitter_ms", 0) == jitter_ms]
    for rule in rules:
        print(f"\nrule {rule}: {PEERS} peers, rank {STRAGGLER} at --slowdown 4, {epochs} epochs, "
              f"jitter 0-{jitter_ms} ms; median [range] over seeds")
        print(f"{'half-life':>9} {'max-stale':>9} | {'final acc':>21} | {'t(0.87) s':>18} | "
              f"{'dropped':>17} | seeds")
        print("-" * 92)
        for half_life in half_lives:
            for max_staleness in max_stalenesses:
                runs = [r for r in records if r["rule"] == rule and
                        r["half_life"] == half_life and r["max_staleness"] == max_staleness]
                if not runs:
                    continue
                figures = [run_figures(r) for r in runs]
                print(f"{half_life:>9g} {max_staleness:>9d} | "
                      f"{cell([f[0] for f in figures], '{:.4f}'):>21} | "
                      f"{cell([f[1] for f in figures], '{:.2f}'):>18} | "
                      f"{cell([100 * f[2] for f in figures], '{:.1f}%'):>17} | {len(runs)}")
    loads = [r["load_average"] for r in records]
    if loads:
        print(f"\nload average (1 min) after each run: {min(loads):.1f} to {max(loads):.1f}, "
              f"median {statistics.median(loads):.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", nargs="+", default=["average", "robust-push-sum"])
    parser.add_argument("--half-lives", nargs="+", type=float, default=[0, 5, 20, 80])
    parser.add_argument("--max-staleness", nargs="+", type=int, default=[25, 100, 400])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--jitter-ms", type=int, default=0,
                        help="delay every message by a uniform 0..N ms (default 0)")
    parser.add_argument("--distribution", action="store_true",
                        help="half-life 0, max-staleness 0 1 2 4 8 16: how stale messages are")
    parser.add_argument("--out", default="runs/staleness", help="folder for results.jsonl")
    parser.add_argument("--rumor", default=str(ROOT / "build/src/peer/rumor"))
    parser.add_argument("--table-only", action="store_true", help="print from results.jsonl")
    args = parser.parse_args()
    if args.distribution:
        args.half_lives, args.max_staleness = [0.0], [0, 1, 2, 4, 8, 16]
    if not args.table_only and not os.access(args.rumor, os.X_OK):
        sys.exit(f"experiment_staleness: {args.rumor} is not executable; build first")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    records = [json.loads(l) for l in results.read_text().splitlines() if l] \
        if results.exists() else []
    done = {key(r) for r in records}
    plan = [(rule, h, m, seed) for seed in args.seeds for rule in args.rules
            for h in args.half_lives for m in args.max_staleness]
    pending = [p for p in plan if (*p, args.epochs, args.jitter_ms) not in done]
    if not args.table_only:
        print(f"{len(plan)} runs, {len(plan) - len(pending)} already done; load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        for i, (rule, half_life, max_staleness, seed) in enumerate(pending):
            record = run_cluster(args, rule, half_life, max_staleness, seed)
            with open(results, "a") as f:
                f.write(json.dumps(record) + "\n")
            records.append(record)
            accuracy, t_target, dropped = run_figures(record)
            print(f"[{i + 1}/{len(pending)}] {rule} half-life {half_life:g} max-staleness "
                  f"{max_staleness} seed {seed}: acc {accuracy:.4f}, t(0.87) {t_target:.2f} s, "
                  f"dropped {100 * dropped:.1f}%, wall {record['wall_seconds']} s, load "
                  f"{record['load_average']:.1f}", flush=True)
    print_tables([r for r in records if r["seed"] in args.seeds], args.rules, args.half_lives,
                 args.max_staleness, args.epochs, args.jitter_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())

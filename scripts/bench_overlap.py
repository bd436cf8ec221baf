#!/usr/bin/env python3
"""What gossip costs real `rumor peer` processes: training samples/s with gossip against the
same processes without it, on this machine.

Each repeat runs two configurations one after the other, so that both see the same load:

- gossip off: N `rumor peer` processes, each alone in a peer list of its own, training on as
  many examples as a 1/N shard holds (`--limit-train`);
- gossip on: the same N processes in one peer list (tcp on loopback, or ipc), training their
  1/N iid shards with `rumor peer`'s defaults plus the options after `--`.

Both use one math thread per process and `--catch-up-lag 0`: a peer that catches up jumps to
its neighbour's step, and samples/s would then count steps it never computed. A process's
samples/s is its own figure (training time only, evaluation excluded); a run's is the mean over
its peers. The ratio is gossip on over gossip off of the same repeat; the table shows the
median and range over the repeats.

--slowdown F runs every process in both configurations F times slower (`rumor peer
--slowdown`: after each step's compute it waits (F-1) times as long, its core free meanwhile),
a stand-in for device compute during which the host's cores are idle.

Usage: scripts/bench_overlap.py [--peers 2] [--epochs 3] [--repeats 5] [--transport tcp|ipc]
           [--slowdown F] [--rumor build/src/peer/rumor] [-- OPTIONS for the gossiping peers]
Plain standard library: runs under any python3. Exit codes: 0 ok, 1 a run failed, 2 bad args.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN_EXAMPLES = 60000  # Fashion-MNIST's training set


def free_ports(count):
    """Loopback ports the kernel handed out just now (closed again before the peers bind)."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def endpoints(args, tmp, count, tag):
    if args.transport == "ipc":
        return [f"ipc://{tmp}/{tag}{r}" for r in range(count)]
    return [f"tcp://127.0.0.1:{port}" for port in free_ports(count)]


def final_rate(metrics_path):
    """samples/s of a finished peer, from its metrics.jsonl summary record."""
    with open(metrics_path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    summary = [r for r in records if r.get("event") == "summary"]
    if not summary:
        raise RuntimeError(f"{metrics_path}: no summary record (the peer did not finish)")
    return summary[-1]["samples_per_second"]


def run(args, tmp, gossip):
    """Runs N peers at once to completion; returns their samples/s."""
    tag = "on" if gossip else "off"
    common = ["--epochs", str(args.epochs), "--threads", "1", "--limit-test", "500",
              "--http", "off", "--quiet", "--progress-every", "0", "--catch-up-lag", "0"]
    if args.slowdown > 1.0:
        common += ["--slowdown", str(args.slowdown)]
    cluster = endpoints(args, tmp, args.peers, tag)
    jobs = []
    for rank in range(args.peers):
        out = os.path.join(tmp, f"{tag}-{rank}")
        peers_file = os.path.join(tmp, f"{tag}-{rank}.txt")
        with open(peers_file, "w") as f:
            f.write("".join(e + "\n" for e in (cluster if gossip else [cluster[rank]])))
        cmd = [args.rumor, "peer", "--peers", peers_file, "--rank", str(rank if gossip else 0),
               "--out", out, "--seed", str(1 if gossip else 1 + rank)] + common
        if gossip:
            cmd += args.options
        else:
            cmd += ["--limit-train", str(TRAIN_EXAMPLES // args.peers)]
        log = open(out + ".log", "w")
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        jobs.append((subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), log, out))
    for proc, log, out in jobs:
        proc.wait()
        log.close()
        if proc.returncode != 0:
            with open(out + ".log") as f:
                raise RuntimeError(f"rumor peer exited with {proc.returncode}:\n{f.read()[-2000:]}")
    return [final_rate(os.path.join(out, "metrics.jsonl")) for _, _, out in jobs]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rumor", default=os.path.join(ROOT, "build", "src", "peer", "rumor"))
    p.add_argument("--peers", type=int, default=2)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--transport", choices=["tcp", "ipc"], default="tcp")
    p.add_argument("--slowdown", type=float, default=1.0)
    p.add_argument("options", nargs="*", help="after --: options for the gossiping peers")
    args = p.parse_args()
    if args.peers < 2 or args.repeats < 1 or args.epochs < 1 or args.slowdown < 1.0:
        p.error("need --peers >= 2, --repeats >= 1, --epochs >= 1, --slowdown >= 1")
    if not os.access(args.rumor, os.X_OK):
        p.error(f"--rumor {args.rumor}: not an executable (build first: scripts/setup.sh)")
    return args


def main():
    args = parse_args()
    off_rates, on_rates, ratios = [], [], []
    with tempfile.TemporaryDirectory(prefix="rumor-overlap-") as tmp:
        for repeat in range(args.repeats):
            try:
                off = statistics.mean(run(args, tmp, gossip=False))
                on = statistics.mean(run(args, tmp, gossip=True))
            except RuntimeError as error:
                print(f"bench_overlap: {error}", file=sys.stderr)
                return 1
            off_rates.append(off)
            on_rates.append(on)
            ratios.append(on / off)
            print(f"repeat {repeat + 1}/{args.repeats}: gossip off {off:.0f} samples/s per peer, "
                  f"on {on:.0f}, ratio {on / off:.3f}", flush=True)
    options = " ".join(args.options) or "(rumor peer's defaults)"
    print(f"\n{args.peers} rumor peer processes over {args.transport}, {args.epochs} epochs, "
          f"1 thread each, slowdown {args.slowdown:g}; gossip options: {options}")
    print(f"{'run':<12} {'samples/s per peer':>19} {'ratio':>7} {'range':>13}")
    print(f"{'gossip off':<12} {statistics.median(off_rates):>19.0f} {'-':>7} {'-':>13}")
    print(f"{'gossip on':<12} {statistics.median(on_rates):>19.0f} "
          f"{statistics.median(ratios):>7.3f} {min(ratios):>6.3f}-{max(ratios):.3f}")
    print(f"median over {args.repeats} repeats; ratio: gossip on over gossip off of the same repeat")
    return 0


if __name__ == "__main__":
    sys.exit(main())

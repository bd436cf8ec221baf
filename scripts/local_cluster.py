#!/usr/bin/env python3
"""Start a local gossip cluster: N `rumor peer` processes on this machine, each training its
shard of Fashion-MNIST and averaging with its neighbours over loopback (ipc sockets by default,
tcp with --tcp). Prints one progress line for the whole cluster every few seconds, then each
peer's final accuracy and the accuracy of the average of all replicas (the consensus model).

    scripts/local_cluster.py --peers 4 -- --epochs 5 --rule push-sum

Arguments after `--` go to every `rumor peer`. Logs, metrics and parameters land in
RUN_DIR/peer-N/ (default runs/local). Exits non-zero if any peer fails.
Plain standard library: runs under any python3.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_tcp_ports(count):
    """Ports the kernel handed out just now (closed again before the peers bind them)."""
    sockets = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def last_record(path):
    """The last JSON line of a metrics file, or None."""
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


def status_line(run_dir, count):
    parts = []
    for rank in range(count):
        record = last_record(run_dir / f"peer-{rank}" / "metrics.jsonl")
        if record is None or "step" not in record:
            parts.append(f"r{rank} starting")
        else:
            parts.append(f"r{rank} step {record['step']}/{record.get('total_steps', '?')} "
                         f"acc {record.get('test_accuracy', 0):.3f}")
    return " | ".join(parts)


def main():
    parser = argparse.ArgumentParser(
        description="Run N rumor peers on this machine and report the cluster's accuracy.",
        epilog="Arguments after -- are passed to every `rumor peer` (see `rumor peer --help`).")
    parser.add_argument("--peers", type=int, default=4, help="number of peers (default 4)")
    parser.add_argument("--run-dir", default="runs/local",
                        help="folder for each peer's log, metrics and parameters")
    parser.add_argument("--rumor", default=str(ROOT / "build/src/peer/rumor"),
                        help="the rumor binary (default: the build folder's)")
    parser.add_argument("--tcp", action="store_true",
                        help="listen on 127.0.0.1 TCP ports instead of ipc sockets")
    parser.add_argument("--interval", type=float, default=2.0,
                        help="seconds between cluster progress lines (default 2)")
    parser.add_argument("peer_args", nargs=argparse.REMAINDER,
                        help="-- then options for every rumor peer")
    args = parser.parse_args()
    if args.peers < 1:
        parser.error("--peers must be at least 1")
    peer_args = args.peer_args[1:] if args.peer_args[:1] == ["--"] else args.peer_args
    if not os.access(args.rumor, os.X_OK):
        sys.exit(f"local_cluster: {args.rumor} is not an executable rumor binary; "
                 "build first (scripts/setup.sh)")

    run_dir = Path(args.run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    socket_dir = Path(tempfile.mkdtemp(prefix="rumor-"))  # short: ipc paths are length-limited
    if args.tcp:
        endpoints = [f"127.0.0.1:{port}" for port in free_tcp_ports(args.peers)]
    else:
        endpoints = [f"ipc://{socket_dir}/peer-{rank}" for rank in range(args.peers)]
    peers_file = run_dir / "peers.txt"
    peers_file.write_text("# written by scripts/local_cluster.py\n" + "\n".join(endpoints) + "\n")
    print(f"local cluster: {args.peers} peers, peer list {peers_file}, logs in {run_dir}/peer-N/",
          flush=True)

    processes = []
    for rank in range(args.peers):
        out = run_dir / f"peer-{rank}"
        out.mkdir(exist_ok=True)
        (out / "metrics.jsonl").unlink(missing_ok=True)
        log = open(out / "peer.log", "w")
        command = [args.rumor, "peer", "--peers", str(peers_file), "--rank", str(rank),
                   "--out", str(out), "--progress-every", "5", *peer_args]
        processes.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), log))

    def stop(signum, _frame):
        for process, _ in processes:
            if process.poll() is None:
                process.send_signal(signum)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    started = time.monotonic()
    shown = None
    while any(process.poll() is None for process, _ in processes):
        try:
            processes[0][0].wait(timeout=args.interval)
        except subprocess.TimeoutExpired:
            pass
        elapsed = time.monotonic() - started
        line = status_line(run_dir, args.peers)
        if line != shown:
            print(f"[{elapsed:5.1f} s] {line}", flush=True)
            shown = line
    for _, log in processes:
        log.close()

    failed = [rank for rank, (process, _) in enumerate(processes) if process.returncode != 0]
    print(f"\nfinished in {time.monotonic() - started:.1f} s")
    for rank in range(args.peers):
        log_text = (run_dir / f"peer-{rank}" / "peer.log").read_text(errors="replace")
        finals = [l for l in log_text.splitlines() if "final test accuracy" in l]
        print(finals[-1] if finals else f"rank {rank}: no result (see {run_dir}/peer-{rank}/peer.log)")
    for rank in failed:
        tail = (run_dir / f"peer-{rank}" / "peer.log").read_text(errors="replace").splitlines()[-5:]
        print(f"rank {rank} exited with {processes[rank][0].returncode}:\n  " + "\n  ".join(tail),
              file=sys.stderr)
    if failed:
        return 1

    params = [str(run_dir / f"peer-{rank}" / "params.bin") for rank in range(args.peers)]
    evaluation = subprocess.run([args.rumor, "eval", "--average", *params],
                                capture_output=True, text=True)
    if evaluation.returncode != 0:
        print(evaluation.stdout + evaluation.stderr, file=sys.stderr)
        return 1
    print(evaluation.stdout.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())

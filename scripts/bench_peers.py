#!/usr/bin/env python3
"""4 rumor peers against 4-rank PyTorch DDP: seconds of training to a target test accuracy.

Both sides train the MLP 784-256-128-10 on Fashion-MNIST with the same recipe (batch 128 per
rank or peer, SGD lr 0.1, Nesterov 0.9, weight decay 5e-4, 200 warm-up steps then cosine to 0
over the run, 5 epochs of the rank's shard), one math thread per process, all processes on this
machine, each rank or peer on its own 1/N iid shard:

- rumor: N `rumor peer` processes over ipc sockets, started together (each waits until it has
  heard from all others before its first step), with the options of each --config (default:
  rumor's defaults, push-sum on the exponential graph, publish every step);
- DDP: scripts/bench_pytorch.py --ddp-ranks N (gloo, one all_reduce of the gradient per step),
  under /usr/bin/python3 (Debian's python3-torch).

Straggler row: rank N-1 runs F times slower, defined alike on both sides: after each step's
compute it sleeps (F-1) x the time that compute took (`rumor peer --slowdown F`: batch gather,
forward, backward and update; bench_pytorch.py --straggler-factor F: forward and backward).

Seconds to target, one definition for both. A model's clock counts training only: seconds
since its first step, evaluation excluded. Every --eval-every steps of its own (and at the end)
the model is evaluated on the full test set (10,000 images); its time to target is its clock
at the first evaluation with test accuracy >= target. DDP has one model (rank 0 evaluates
while every rank waits; rank 0's clock). rumor has N models, one per peer, and its time is the
largest over the peers: the training time by which every replica, the straggler's included,
has reached the target. A run in which some model never reaches it counts as missing ("—").

How rumor's models are evaluated: N peers evaluating in-process would take CPU from the others
while their own clocks stand still (on 2 cores, evaluating every 10 steps costs more CPU than
training), unlike DDP where everyone pauses. So each peer writes a snapshot (a checkpoint, on
tmpfs) every --eval-every steps, the write on its clock, and the snapshots are evaluated after
the run; a checkpoint records the step and the training clock at which it was taken.
--inline-eval uses the peers' own evaluations instead.

Each row runs once per seed (--seeds, default 1 2 3: rumor --seed s, DDP --seed s) and shows
the median; DDP and the rumor configurations alternate per seed so that load hits them alike,
and each run first waits (up to --max-wait s) for other processes to leave the cores idle.

Usage: scripts/bench_peers.py [--rumor build/src/peer/rumor] [--seeds 1 2 3] [--epochs 5]
           [--config NAME=OPTIONS ...]
       scripts/bench_peers.py --no-ddp --rows plain --config "avg=--rule average"  # knobs
Plain standard library: runs under any python3. Exit codes: 0 ok, 1 a run failed, 2 bad args.
"""
import argparse
import json
import os
import shlex
import shutil
import struct
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_PYTHON = "/usr/bin/python3"


def read_jsonl(path):
    records = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                records.append(json.loads(line))
    return records


CKPT_HEADER = struct.Struct("<8sIIiiqqQQqd")  # checkpoint.h: magic .. train_seconds (72 B)


def checkpoint_clock(path):
    """(step, train_seconds) from a checkpoint file's header (src/train/checkpoint.h)."""
    with open(path, "rb") as f:
        fields = CKPT_HEADER.unpack(f.read(CKPT_HEADER.size))
    if fields[0] != b"RUMORCKP":
        raise RuntimeError(f"{path}: not a rumor checkpoint")
    return fields[6], fields[10]


def evaluate_checkpoints(binary, paths):
    """Full-test-set accuracy of each checkpoint, via `rumor eval --json` (both cores)."""
    accuracies = {}
    for i in range(0, len(paths), 200):  # keep the command line short
        done = subprocess.run([binary, "eval", "--json", "--threads", "0", *paths[i:i + 200]],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"rumor eval exited with {done.returncode}:\n{done.stderr[-2000:]}")
        for line in done.stdout.splitlines():
            record = json.loads(line)
            accuracies[record["params"]] = record["test_accuracy"]
    return [accuracies[p] for p in paths]


def start_peers(args, tmp, seed, slowdown, options):
    peers_file = os.path.join(tmp, "peers.txt")
    with open(peers_file, "w") as f:
        f.write("".join(f"ipc://{tmp}/p{r}\n" for r in range(args.peers)))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    procs = []
    for rank in range(args.peers):
        out = os.path.join(tmp, f"peer-{rank}")
        cmd = [args.rumor, "peer", "--peers", peers_file, "--rank", str(rank),
               "--epochs", str(args.epochs), "--seed", str(seed), "--threads", "1",
               "--http", "off", "--quiet", "--progress-every", "0", "--out", out]
        if args.inline_eval:
            cmd += ["--eval-every", str(args.eval_every)]
        else:  # snapshots on the clock, evaluated afterwards; the peers' own evaluations
            # (once per epoch) are not used, so they look at 1,000 test images only
            cmd += ["--eval-every", "0", "--limit-test", "1000",
                    "--checkpoint-dir", os.path.join(args.snapshot_dir, f"peer-{rank}"),
                    "--checkpoint-every", str(args.eval_every), "--keep-checkpoints", "1000000"]
        if slowdown > 1.0 and rank == args.peers - 1:
            cmd += ["--slowdown", str(slowdown)]
        cmd += options
        log = open(os.path.join(tmp, f"peer-{rank}.log"), "w")
        procs.append((subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), log))
    return procs


def peer_curve(args, tmp, rank):
    """[(step, train_seconds, test_accuracy)] of one peer, oldest first."""
    if args.inline_eval:
        records = read_jsonl(os.path.join(tmp, f"peer-{rank}", "metrics.jsonl"))
        return [(r["step"], r["train_seconds"], r["test_accuracy"])
                for r in records if r.get("event") in ("eval", "final")]
    folder = os.path.join(args.snapshot_dir, f"peer-{rank}")
    paths = sorted(os.path.join(folder, name) for name in os.listdir(folder)
                   if name.startswith("ckpt-") and name.endswith(".rumor"))
    clocks = [checkpoint_clock(p) for p in paths]
    return [(step, seconds, acc)
            for (step, seconds), acc in zip(clocks, evaluate_checkpoints(args.rumor, paths))]


def run_rumor(args, seed, slowdown, options):
    """Runs N peers to completion; returns per-peer results and the cluster's time to target."""
    with tempfile.TemporaryDirectory(prefix="rumor-bp-") as tmp:
        shutil.rmtree(args.snapshot_dir, ignore_errors=True)
        procs = start_peers(args, tmp, seed, slowdown, options)
        try:
            started = time.monotonic()
            for proc, _ in procs:
                proc.wait()
            wall = time.monotonic() - started
            failed = [r for r, (p, _) in enumerate(procs) if p.returncode != 0]
            if failed:
                with open(os.path.join(tmp, f"peer-{failed[0]}.log")) as f:
                    tail = f.read()[-2000:]
                raise RuntimeError(f"rumor peer rank {failed[0]} exited with "
                                   f"{procs[failed[0]][0].returncode}:\n{tail}")
            peers = []
            for rank in range(args.peers):
                curve = peer_curve(args, tmp, rank)
                reach = next(((s, t) for s, t, a in curve if a >= args.target), None)
                peers.append({"rank": rank,
                              "seconds_to_target": None if reach is None else reach[1],
                              "steps_to_target": None if reach is None else reach[0],
                              "final_accuracy": curve[-1][2], "train_seconds": curve[-1][1],
                              "steps": curve[-1][0], "curve": curve})
        finally:  # an interrupted run leaves no peers and no snapshots behind
            for proc, log in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                log.close()
            shutil.rmtree(args.snapshot_dir, ignore_errors=True)
    times = [p["seconds_to_target"] for p in peers]
    return {"seconds_to_target": None if None in times else max(times),
            "first_replica_seconds": None if None in times else min(times),
            "final_accuracy_min": min(p["final_accuracy"] for p in peers),
            "final_accuracy_mean": statistics.mean(p["final_accuracy"] for p in peers),
            "wall_seconds": round(wall, 2), "peers": peers}


def cpu_busy(seconds=1.0):
    """Fraction of all cores busy over the next `seconds` (/proc/stat), or None off Linux."""
    def sample():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return values[3] + values[4], sum(values)  # idle + iowait, total
    try:
        idle0, total0 = sample()
        time.sleep(seconds)
        idle1, total1 = sample()
    except OSError:
        return None
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def wait_until_quiet(args):
    """Before a run: waits (up to --max-wait s) until other processes keep at most --max-busy
    of the cores busy; returns the last measured fraction (reported with the run)."""
    deadline = time.monotonic() + args.max_wait
    while True:
        busy = cpu_busy()
        if busy is None or busy <= args.max_busy or time.monotonic() >= deadline:
            return busy
        time.sleep(2.0)


def run_ddp(args, seed, slowdown):
    cmd = [TORCH_PYTHON, os.path.join(ROOT, "scripts", "bench_pytorch.py"),
           "--ddp-ranks", str(args.peers), "--epochs", str(args.epochs),
           "--eval-every-steps", str(args.eval_every), "--seed", str(seed),
           "--target-accuracy", str(args.target), "--threads", "1", "--json"]
    if slowdown > 1.0:
        cmd += ["--straggler-factor", str(slowdown)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench_pytorch.py exited with {done.returncode}:\n"
                           f"{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"seconds_to_target": result["seconds_to_target"],
            "steps_to_target": result["steps_to_target"],
            "final_accuracy_min": result["final_accuracy"],
            "final_accuracy_mean": result["final_accuracy"]}


def torch_missing():
    if not os.path.exists(TORCH_PYTHON):
        return f"{TORCH_PYTHON} not found"
    probe = subprocess.run([TORCH_PYTHON, "-c", "import torch"], capture_output=True, text=True)
    return None if probe.returncode == 0 else "python3-torch is not installed"


def median_or_none(values):
    return None if not values or None in values else statistics.median(values)


def fmt(value, spec):
    return "—" if value is None else format(value, spec)


def parse_config(text):
    name, sep, options = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"'{text}': expected NAME=OPTIONS, e.g. "
                                         "'average=--rule average' or 'defaults='")
    return name, shlex.split(options)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rumor", default=os.path.join(ROOT, "build", "src", "peer", "rumor"))
    p.add_argument("--peers", type=int, default=4, help="peers = DDP ranks (default 4)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--eval-every", type=int, default=10,
                   help="steps between evaluations (per peer / per DDP rank), default 10")
    p.add_argument("--target", type=float, default=0.87)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--slowdown", type=float, default=4.0,
                   help="the straggler row's factor for rank N-1 (default 4)")
    p.add_argument("--rows", choices=["both", "plain", "straggler"], default="both")
    p.add_argument("--config", type=parse_config, action="append", metavar="NAME=OPTIONS",
                   help="a rumor configuration: options for every peer (repeatable; default "
                        "'defaults=', rumor's defaults)")
    p.add_argument("--no-ddp", action="store_true", help="rumor only (knob experiments)")
    p.add_argument("--inline-eval", action="store_true",
                   help="use the peers' own --eval-every evaluations instead of snapshots")
    p.add_argument("--snapshot-dir", default=None,
                   help="where peers write their snapshots (default: under /dev/shm)")
    p.add_argument("--max-busy", type=float, default=0.25,
                   help="before each run, wait until other processes use at most this fraction "
                        "of the cores (default 0.25) ...")
    p.add_argument("--max-wait", type=float, default=60.0,
                   help="... but at most this many seconds (default 60), then run anyway")
    p.add_argument("--json", action="store_true", help="also print every run as JSON lines")
    args = p.parse_args()
    if args.peers < 2 or args.epochs < 1 or args.eval_every < 1 or args.slowdown < 1.0:
        p.error("--peers >= 2, --epochs >= 1, --eval-every >= 1, --slowdown >= 1 required")
    if not os.access(args.rumor, os.X_OK):
        p.error(f"{args.rumor} is not an executable rumor binary; build first")
    args.config = args.config or [("defaults", [])]
    if args.snapshot_dir is None:
        base = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
        args.snapshot_dir = os.path.join(base, f"rumor-bench-peers-{os.getpid()}")
    return args


def main():
    args = parse_args()
    missing = "--no-ddp" if args.no_ddp else torch_missing()
    straggler = f"rank {args.peers - 1} x{args.slowdown:g}"
    rows = {"plain": [("no straggler", 1.0)], "straggler": [(straggler, args.slowdown)],
            "both": [("no straggler", 1.0), (straggler, args.slowdown)]}[args.rows]
    results = []  # (row, ddp runs, {config: rumor runs})
    for name, slowdown in rows:
        ddp_runs, rumor_runs = [], {config: [] for config, _ in args.config}
        for seed in args.seeds:  # alternate the systems, so that load hits them alike
            if not missing:
                busy = wait_until_quiet(args)
                ddp_runs.append(dict(run_ddp(args, seed, slowdown), busy_before=busy))
                if args.json:
                    print(json.dumps({"row": name, "system": "ddp", "seed": seed,
                                      **ddp_runs[-1]}), flush=True)
            for config, options in args.config:
                busy = wait_until_quiet(args)
                rumor_runs[config].append(dict(run_rumor(args, seed, slowdown, options),
                                               busy_before=busy))
                if args.json:
                    print(json.dumps({"row": name, "system": "rumor", "config": config,
                                      "seed": seed, **rumor_runs[config][-1]}), flush=True)
        results.append((name, ddp_runs, rumor_runs))

    print(f"\n{args.peers} rumor peers vs {args.peers}-rank PyTorch DDP (gloo): MLP "
          f"784-256-128-10, batch 128 per rank, {args.epochs} epochs, 1 thread per process.\n"
          f"Training seconds until test accuracy >= {args.target} (rumor: every replica), "
          f"evaluated every {args.eval_every} steps, evaluation not timed; median of "
          f"{len(args.seeds)} seed(s): {' '.join(map(str, args.seeds))}")
    for config, options in args.config:
        print(f"  rumor '{config}': {' '.join(options) or 'rumor defaults'}")
    print(f"{'row':<13} | {'rumor config':<14} | {'DDP s':>6} | {'rumor s':>7} | "
          f"{'rumor/DDP':>9} | {'DDP acc':>7} | {'rumor acc min/mean':>18} | "
          f"{'1st replica s':>13}")
    print("-" * 105)
    for name, ddp_runs, rumor_runs in results:
        d = median_or_none([x["seconds_to_target"] for x in ddp_runs])
        d_acc = median_or_none([x["final_accuracy_min"] for x in ddp_runs])
        for config, runs in rumor_runs.items():
            r = median_or_none([x["seconds_to_target"] for x in runs])
            first = median_or_none([x["first_replica_seconds"] for x in runs])
            r_min = median_or_none([x["final_accuracy_min"] for x in runs])
            r_mean = median_or_none([x["final_accuracy_mean"] for x in runs])
            ratio = r / d if (r is not None and d) else None
            accs = "—" if r_min is None else f"{r_min:.4f}/{r_mean:.4f}"
            print(f"{name:<13} | {config:<14} | {fmt(d, '.2f'):>6} | {fmt(r, '.2f'):>7} | "
                  f"{fmt(ratio, '.2f'):>9} | {fmt(d_acc, '.4f'):>7} | {accs:>18} | "
                  f"{fmt(first, '.2f'):>13}")
            seeds = [f"{seed}: " + (f"DDP {fmt(dr['seconds_to_target'], '.2f')} "
                                    f"(busy {fmt(dr['busy_before'], '.2f')}) " if dr else "")
                     + f"rumor {fmt(rr['seconds_to_target'], '.2f')} "
                       f"(busy {fmt(rr['busy_before'], '.2f')})"
                     for seed, dr, rr in zip(args.seeds, ddp_runs or [None] * len(runs), runs)]
            print(f"{'':<13}   seeds {'; '.join(seeds)}")
    print(f"target: rumor/DDP <= 0.5 in both rows. 1st replica s: when the first rumor replica "
          f"reached {args.target} (not the headline figure). busy: share of the cores other "
          f"processes kept busy just before that run")
    if missing and not args.no_ddp:
        print(f"DDP rows skipped: {missing} (scripts/bench.sh installs it)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"bench_peers: {e}", file=sys.stderr)
        sys.exit(1)

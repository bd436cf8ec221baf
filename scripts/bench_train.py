#!/usr/bin/env python3
"""Training throughput and time-to-accuracy: rumor against PyTorch, measured in the same run.

Runs `rumor train` and scripts/bench_pytorch.py (Debian's python3-torch, under /usr/bin/python3)
with the same model (MLP 784-256-128-10), batch (128), recipe (SGD lr 0.1, Nesterov 0.9, weight
decay 5e-4, 200 warm-up steps + cosine), epochs and thread count, and prints one table:
training samples/s (evaluation excluded on both sides), seconds of training until the test
accuracy first reaches the target (both evaluate every --eval-every steps), final accuracy,
and rumor/PyTorch ratios. Each configuration runs --repeats times; the median is shown.

Usage: scripts/bench_train.py [--rumor build/src/peer/rumor] [--epochs 5] [--threads 1 2]
Standard library only; PyTorch rows are skipped, with the reason, when torch is missing.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_PYTHON = "/usr/bin/python3"


def run_rumor(binary, epochs, threads, eval_every, target):
    with tempfile.TemporaryDirectory() as out:
        cmd = [binary, "train", "--epochs", str(epochs), "--threads", str(threads),
               "--eval-every", str(eval_every), "--quiet", "--out", out]
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS="1")
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        with open(os.path.join(out, "metrics.jsonl")) as f:
            records = [json.loads(line) for line in f]
    reached = [r["train_seconds"] for r in records if r["test_accuracy"] >= target]
    final = records[-1]
    return {"samples_per_s": final["samples_per_second"],
            "seconds_to_target": reached[0] if reached else None,
            "final_accuracy": final["test_accuracy"]}


def run_pytorch(epochs, threads, eval_every, target):
    cmd = [TORCH_PYTHON, os.path.join(ROOT, "scripts", "bench_pytorch.py"), "--epochs",
           str(epochs), "--threads", str(threads), "--eval-every-steps", str(eval_every),
           "--target-accuracy", str(target), "--json"]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def torch_missing():
    if not os.path.exists(TORCH_PYTHON):
        return f"{TORCH_PYTHON} not found"
    probe = subprocess.run([TORCH_PYTHON, "-c", "import torch"], capture_output=True, text=True)
    return None if probe.returncode == 0 else "python3-torch is not installed"


def median_of(runs, key):
    values = [r[key] for r in runs if r[key] is not None]
    return statistics.median(values) if len(values) == len(runs) else None


def fmt(value, spec):
    return "—" if value is None else format(value, spec)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rumor", default=os.path.join(ROOT, "build", "src", "peer", "rumor"))
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--target", type=float, default=0.87)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()

    missing = torch_missing()
    rows = []
    for threads in dict.fromkeys(args.threads):
        rumor_runs = [run_rumor(args.rumor, args.epochs, threads, args.eval_every, args.target)
                      for _ in range(args.repeats)]
        torch_runs = [] if missing else [
            run_pytorch(args.epochs, threads, args.eval_every, args.target)
            for _ in range(args.repeats)]
        rows.append((threads, rumor_runs, torch_runs))

    print(f"\nTraining MLP 784-256-128-10 on Fashion-MNIST, batch 128, {args.epochs} epochs, "
          f"median of {args.repeats} (evaluation every {args.eval_every} steps, not timed)")
    print(f"{'threads':>7} | {'system':<8} | {'samples/s':>10} | {'s to ' + str(args.target):>8} "
          f"| {'final acc':>9} | {'ratio samples/s':>15} | {'ratio time':>10}")
    print("-" * 85)
    for threads, rumor_runs, torch_runs in rows:
        r_sps, r_tt = median_of(rumor_runs, "samples_per_s"), median_of(rumor_runs, "seconds_to_target")
        r_acc = median_of(rumor_runs, "final_accuracy")
        t_sps = median_of(torch_runs, "samples_per_s") if torch_runs else None
        t_tt = median_of(torch_runs, "seconds_to_target") if torch_runs else None
        t_acc = median_of(torch_runs, "final_accuracy") if torch_runs else None
        ratio = r_sps / t_sps if t_sps else None
        speedup = t_tt / r_tt if (t_tt and r_tt) else None
        print(f"{threads:>7} | {'rumor':<8} | {fmt(r_sps, ',.0f'):>10} | {fmt(r_tt, '.2f'):>8} "
              f"| {fmt(r_acc, '.4f'):>9} | {fmt(ratio, '.2f'):>15} | {fmt(speedup, '.2f'):>10}")
        print(f"{threads:>7} | {'PyTorch':<8} | {fmt(t_sps, ',.0f'):>10} | {fmt(t_tt, '.2f'):>8} "
              f"| {fmt(t_acc, '.4f'):>9} | {'1.00' if t_sps else '—':>15} | "
              f"{'1.00' if t_tt else '—':>10}")
    print("ratio samples/s = rumor / PyTorch (higher is better); ratio time = PyTorch seconds to "
          "target / rumor seconds (higher is better)")
    if missing:
        print(f"PyTorch rows skipped: {missing} (scripts/bench.sh installs it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

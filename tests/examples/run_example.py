#!/usr/bin/env python3
"""Runs one example program as several real processes gossiping over ipc:// endpoints in a
fresh temporary folder, and checks the metric each prints on its last line.

Usage: run_example.py --processes N --metric "test accuracy" (--min X | --max X)
                      [--require PATH] [--timeout S] -- PROGRAM [ARGS...]

Each process gets PROGRAM ARGS --rank R --peers ipc://TMP/0,...,ipc://TMP/N-1 and must exit 0
within the timeout and print a line containing "<metric> <value>". Exit status: 0 when every
process passed, 1 when one did not, 77 (Meson's "skipped") when --require names a missing path.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--metric", required=True)
    bound = parser.add_mutually_exclusive_group(required=True)
    bound.add_argument("--min", type=float, help="every process's metric must be >= this")
    bound.add_argument("--max", type=float, help="every process's metric must be <= this")
    parser.add_argument("--require", help="skip the test when this path does not exist")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds, for all")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no program given")
    if args.require and not os.path.exists(args.require):
        print(f"SKIP: {args.require} is missing (install Debian's dataset-fashion-mnist)")
        return 77

    with tempfile.TemporaryDirectory(prefix="rumor-example-") as folder:
        peers = ",".join(f"ipc://{folder}/{r}" for r in range(args.processes))
        procs = [
            subprocess.Popen(command + ["--rank", str(r), "--peers", peers],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for r in range(args.processes)
        ]
        try:
            return check(procs, args)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


def check(procs, args) -> int:
    """Waits for every process (one deadline for all) and checks its exit status and metric."""
    deadline = time.monotonic() + args.timeout
    failed = False
    pattern = re.compile(re.escape(args.metric) + r" ([-+0-9.eE]+)")
    for rank, proc in enumerate(procs):
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            print(f"rank {rank}: still running after {args.timeout} s; killed")
            failed = True
        sys.stdout.write(out)
        sys.stderr.write(err)
        if proc.returncode != 0:
            print(f"rank {rank}: exit status {proc.returncode}, expected 0")
            failed = True
            continue
        found = pattern.findall(out)
        if not found:
            print(f"rank {rank}: no '{args.metric} <value>' in its output")
            failed = True
            continue
        value = float(found[-1])
        if args.min is not None and value < args.min:
            print(f"rank {rank}: {args.metric} {value} is below the expected {args.min}")
            failed = True
        if args.max is not None and value > args.max:
            print(f"rank {rank}: {args.metric} {value} is above the expected {args.max}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

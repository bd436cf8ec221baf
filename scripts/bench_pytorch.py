#!/usr/bin/python3
"""PyTorch reference for rumor's benchmark: an MLP 784-256-128-10 on Fashion-MNIST.

Run with Debian's interpreter, /usr/bin/python3 (the only one that sees `python3-torch`).

Recipe (identical to rumor's): batch 128 (per rank in DDP mode), SGD lr 0.1 with Nesterov
momentum 0.9 and weight decay 5e-4 (on all parameters), linear warm-up over 200 steps from 0 to
lr, then cosine decay to 0 over the remaining steps of the run; He (kaiming normal, fan_in, relu)
weights and zero biases; cross-entropy loss; reshuffled every epoch with a seeded generator, last
partial batch dropped. Images are normalised as (p/255 - 0.2860) / 0.3530.

Measured: training samples/s (the clock runs only around training steps: no evaluation, no
per-epoch shuffling), training seconds until the test accuracy, checked every --eval-every-steps
steps and at the end of every epoch, first reaches --target-accuracy (null if never), and the
final test accuracy.

DDP mode (--ddp-ranks N): N processes, torch.distributed with gloo over tcp://127.0.0.1, each
training on a disjoint shard of a seeded permutation of the training set. Gradients are averaged
with one all_reduce of the flattened gradient per step, which is what DistributedDataParallel does
for a model this small (one bucket), but done explicitly so that a straggler's own compute time
can be measured: with --straggler-factor F, rank N-1 sleeps (F-1) x its forward+backward time
every step, before the all_reduce. Rank 0 evaluates on the full test set while all ranks pause
their training clocks. Samples/s is aggregate (all ranks) over the slowest rank's clock.

Examples:
  /usr/bin/python3 scripts/bench_pytorch.py --epochs 5 --threads 1 --json
  /usr/bin/python3 scripts/bench_pytorch.py --ddp-ranks 4 --straggler-factor 4 --json

Exit codes: 0 ok, 2 bad arguments, 3 torch not importable, 1 other failure.
"""
import argparse
import gzip
import json
import math
import multiprocessing
import os
import socket
import sys
import time

DATA_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530
BATCH, WARMUP, MOMENTUM, WEIGHT_DECAY = 128, 200, 0.9, 5e-4
np = torch = None  # imported by import_torch(), after the thread variables are set


def import_torch(threads):
    """Set the thread counts of every pool (environment first), then import numpy and torch."""
    global np, torch
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        import numpy
        import torch as t
    except ImportError as e:
        print(f"bench_pytorch: cannot import torch or numpy ({e}). Install Debian's PyTorch with "
              "`apt-get install -y --no-install-recommends python3-torch` and run this script "
              "with /usr/bin/python3.", file=sys.stderr)
        sys.exit(3)
    t.set_num_threads(threads)
    t.set_num_interop_threads(threads)
    np, torch = numpy, t


def read_idx(name, magic, header):
    with gzip.open(os.path.join(DATA_DIR, name), "rb") as f:
        raw = f.read()
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise ValueError(f"{name}: IDX magic {found}, expected {magic}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header)


def load_split(prefix):
    """Normalised float32 images [n, 784] and int64 labels [n] as torch tensors."""
    images = read_idx(f"{prefix}-images-idx3-ubyte.gz", 2051, 16).reshape(-1, 784)
    labels = read_idx(f"{prefix}-labels-idx1-ubyte.gz", 2049, 8)
    x = (images.astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))


def make_model(seed):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    for m in model:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    return model


def lr_at(step, total, base_lr):
    """Linear warm-up (step+1)/WARMUP * lr, then cosine from lr to 0 at the last step."""
    if step < WARMUP:
        return base_lr * (step + 1) / WARMUP
    span = max(1, total - 1 - WARMUP)
    return 0.5 * base_lr * (1.0 + math.cos(math.pi * min(1.0, (step - WARMUP) / span)))


def evaluate(model, x, y):
    with torch.no_grad():
        model.eval()
        correct = sum(int((model(x[i:i + 2000]).argmax(1) == y[i:i + 2000]).sum())
                      for i in range(0, len(y), 2000))
        model.train()
    return correct / len(y)


def train(args, rank=0, world=1, store_port=None):
    """Train on this rank's shard; return the result dict (meaningful on rank 0)."""
    dist = torch.distributed if world > 1 else None
    if dist:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{store_port}",
                                rank=rank, world_size=world)
    x_train, y_train = load_split("train")
    x_test, y_test = load_split("t10k")
    if world > 1:  # disjoint iid shards of equal size, so every rank takes the same step count
        shard = len(y_train) // world
        perm = torch.randperm(len(y_train), generator=torch.Generator().manual_seed(args.seed))
        idx = perm[rank * shard:(rank + 1) * shard]
        x_train, y_train = x_train[idx], y_train[idx]

    model = make_model(args.seed)
    params = list(model.parameters())
    if dist:
        for p in params:
            dist.broadcast(p.data, src=0)
    opt = torch.optim.SGD(params, lr=0.0, momentum=MOMENTUM, nesterov=True,
                          weight_decay=WEIGHT_DECAY)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed + 1000 * rank)
    steps_per_epoch = len(y_train) // BATCH
    total = steps_per_epoch * args.epochs
    is_straggler = dist is not None and rank == world - 1 and args.straggler_factor > 1.0

    clock, step, seconds_to_target, steps_to_target, acc = 0.0, 0, None, None, None

    def check():  # evaluation outside the clock; every rank waits for rank 0's answer
        nonlocal seconds_to_target, steps_to_target, acc
        result = torch.tensor([evaluate(model, x_test, y_test) if rank == 0 else 0.0],
                              dtype=torch.float64)
        if dist:
            dist.broadcast(result, src=0)
        acc = float(result[0])
        if seconds_to_target is None and acc >= args.target_accuracy:
            seconds_to_target, steps_to_target = clock, step

    for epoch in range(args.epochs):
        perm = torch.randperm(len(y_train), generator=gen)  # data loading: off the clock
        xe, ye = x_train[perm], y_train[perm]
        epoch_clock, loss_sum = clock, 0.0
        for b in range(steps_per_epoch):
            xb, yb = xe[b * BATCH:(b + 1) * BATCH], ye[b * BATCH:(b + 1) * BATCH]
            t0 = time.perf_counter()
            for group in opt.param_groups:
                group["lr"] = lr_at(step, total, args.lr)
            opt.zero_grad(set_to_none=False)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            if is_straggler:
                time.sleep((args.straggler_factor - 1.0) * (time.perf_counter() - t0))
            if dist:
                flat = torch.cat([p.grad.reshape(-1) for p in params])
                dist.all_reduce(flat)
                flat /= world
                offset = 0
                for p in params:
                    p.grad.copy_(flat[offset:offset + p.numel()].view_as(p.grad))
                    offset += p.numel()
            opt.step()
            clock += time.perf_counter() - t0
            loss_sum += float(loss)
            step += 1
            if step % args.eval_every_steps == 0 or b == steps_per_epoch - 1:
                check()
        if rank == 0:
            ep_time = clock - epoch_clock
            print(f"epoch {epoch + 1}/{args.epochs}: loss {loss_sum / steps_per_epoch:.4f}  "
                  f"test acc {acc:.4f}  train {ep_time:.2f} s  "
                  f"{world * steps_per_epoch * BATCH / ep_time:,.0f} samples/s", flush=True)

    slowest = clock
    if dist:  # aggregate rate over the slowest rank's clock
        t = torch.tensor([clock], dtype=torch.float64)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        slowest = float(t[0])
        dist.destroy_process_group()
    samples = world * step * BATCH
    return {
        "framework": "pytorch", "torch_version": torch.__version__,
        "mode": "ddp" if world > 1 else "single", "ranks": world, "threads": args.threads,
        "epochs": args.epochs, "batch_per_rank": BATCH, "lr": args.lr, "seed": args.seed,
        "straggler_factor": args.straggler_factor if world > 1 else 1.0,
        "eval_every_steps": args.eval_every_steps, "steps_per_rank": step, "samples": samples,
        "train_seconds": round(slowest, 4), "samples_per_s": round(samples / slowest, 1),
        "target_accuracy": args.target_accuracy,
        "seconds_to_target": None if seconds_to_target is None else round(seconds_to_target, 4),
        "steps_to_target": steps_to_target, "final_accuracy": round(acc, 4),
    }


def ddp_worker(args, rank, port, queue):
    import_torch(args.threads)
    result = train(args, rank, args.ddp_ranks, port)
    if rank == 0:
        queue.put(result)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="torch threads (per rank in DDP)")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target-accuracy", type=float, default=0.87)
    p.add_argument("--eval-every-steps", type=int, default=100)
    p.add_argument("--ddp-ranks", type=int, default=0, help="N > 0: DDP with N processes")
    p.add_argument("--straggler-factor", type=float, default=1.0,
                   help="DDP only: rank N-1 runs F times slower")
    p.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = p.parse_args()
    if args.epochs < 1 or args.threads < 1 or args.eval_every_steps < 1 or args.ddp_ranks < 0:
        p.error("--epochs, --threads and --eval-every-steps must be >= 1, --ddp-ranks >= 0")
    if args.straggler_factor < 1.0 or (args.straggler_factor != 1.0 and args.ddp_ranks < 2):
        p.error("--straggler-factor must be >= 1 and needs --ddp-ranks >= 2")
    return args


def main():
    args = parse_args()
    import_torch(args.threads)  # fail early (exit 3) in either mode
    if args.ddp_ranks > 0:
        ctx = multiprocessing.get_context("spawn")
        queue, port = ctx.Queue(), free_port()
        procs = [ctx.Process(target=ddp_worker, args=(args, r, port, queue))
                 for r in range(args.ddp_ranks)]
        for proc in procs:
            proc.start()
        result = None
        while result is None and all(proc.exitcode in (None, 0) for proc in procs):
            try:
                result = queue.get(timeout=1.0)  # rank 0 posts before it exits
            except Exception:  # queue.Empty: keep waiting while every rank is healthy
                pass
        for proc in procs:
            if result is None and proc.exitcode is None:
                proc.terminate()  # a rank failed: the others would block in a collective
            proc.join()
        if result is None or any(proc.exitcode != 0 for proc in procs):
            print("bench_pytorch: a DDP rank failed: exit codes "
                  f"{[proc.exitcode for proc in procs]}", file=sys.stderr)
            sys.exit(1)
    else:
        result = train(args)
    tt = result["seconds_to_target"]
    print(f"{result['mode']} ranks={result['ranks']} threads={result['threads']}: "
          f"{result['samples_per_s']:,.0f} samples/s, final acc {result['final_accuracy']:.4f}, "
          f"{args.target_accuracy} reached after "
          + ("never" if tt is None else f"{tt:.2f} s (step {result['steps_to_target']})"),
          flush=True)
    if args.json:
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

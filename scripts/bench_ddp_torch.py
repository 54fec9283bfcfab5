#!/usr/bin/env python3
"""PyTorch's figure for `fluxion bench distributed`: the same data-parallel
training step (zero_grad, forward, cross-entropy, backward with
DistributedDataParallel's gradient all-reduce over gloo, AdaBayes's stand-in
Adam step) of the same model definition (torch_models.py), global batch split
among the ranks, threads split among them, a barrier before each step, the
median step time. Run by scripts/bench_distributed.sh:

    /usr/bin/python3 scripts/bench_ddp_torch.py --ranks 2 --model resnet20 --batch-size 128
    ...
    torch ddp resnet20 batch 128 on 2 ranks of 1 thread: <X> img/s

Not needed to build or test Fluxion (Debian's python3-torch).
"""
import argparse
import os
import statistics
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from torch_models import make_model  # the same definitions as Fluxion's (same folder)


def worker(rank, args):
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29517")
    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo", rank=rank, world_size=args.ranks)
    torch.manual_seed(0)
    model = make_model(args.model)
    ddp = DistributedDataParallel(model)
    optimizer = torch.optim.Adam(ddp.parameters(), lr=1e-3)
    share = args.batch_size // args.ranks
    images = torch.randn(share, 3, 32, 32)
    labels = torch.zeros(share, dtype=torch.long)
    times = []
    for i in range(args.warmup + args.steps):
        dist.barrier()
        t0 = time.perf_counter()
        optimizer.zero_grad()
        F.cross_entropy(ddp(images), labels).backward()
        optimizer.step()
        if i >= args.warmup:
            times.append(time.perf_counter() - t0)
    if rank == 0:
        step = statistics.median(times)
        print(f"torch ddp {args.model} batch {args.batch_size} on {args.ranks} rank{'s' if args.ranks > 1 else ''} "
              f"of {args.threads} thread{'s' if args.threads > 1 else ''}: step {step * 1e3:.1f} ms, "
              f"{args.batch_size / step:.1f} img/s")
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--model", default="resnet20")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=0, help="per rank (0: the cores shared among the ranks)")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    if args.threads == 0:
        args.threads = max(1, os.cpu_count() // args.ranks)
    mp.spawn(worker, args=(args,), nprocs=args.ranks, join=True)


if __name__ == "__main__":
    main()

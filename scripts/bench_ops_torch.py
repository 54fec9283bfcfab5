#!/usr/bin/env python3
"""PyTorch's figures for the same measurements as `fluxion bench ops`.

Run with Debian's python3-torch, beside `fluxion bench ops`, with the same
thread count:  /usr/bin/python3 scripts/bench_ops_torch.py --threads 2
Not needed to build or test Fluxion.
"""
import argparse
import statistics
import time

import torch


def median_seconds(fn, budget=1.0, warmup=2, min_runs=5):
    for _ in range(warmup):
        fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < min_runs or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--gemm-sizes", type=int, nargs="+", default=[1024, 2048])
    parser.add_argument("--elements", type=int, default=16 * 1024 * 1024)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__} bench ops: {torch.get_num_threads()} threads")

    for n in args.gemm_sizes:
        flop = 2.0 * n ** 3
        a, b = torch.randn(n, n), torch.randn(n, n)
        forward = median_seconds(lambda: torch.matmul(a, b), args.seconds)
        ag, bg = a.clone().requires_grad_(), b.clone().requires_grad_()
        grad_out = torch.ones(n, n)

        def step():
            ag.grad = None
            bg.grad = None
            torch.matmul(ag, bg).backward(grad_out)

        both = median_seconds(step, args.seconds)
        print(f"gemm {n:5d}^3   matmul forward       {flop / forward / 1e9:8.1f} GFLOP/s")
        print(f"gemm {n:5d}^3   matmul fwd+bwd       {3 * flop / both / 1e9:8.1f} GFLOP/s")

    count = args.elements
    nbytes = 4.0 * count
    a, b = torch.rand(count), torch.rand(count)
    acc = a.clone()
    print(f"elementwise {count >> 20}M float32, GB/s moved (reads + writes)")
    for name, arrays, fn in [
        ("add (new output)", 3, lambda: a + b),
        ("add_ (in place)", 3, lambda: acc.add_(b)),
        ("relu (new output)", 2, lambda: torch.relu(a)),
        ("sum", 1, lambda: a.sum()),
    ]:
        seconds = median_seconds(fn, args.seconds)
        print(f"  {name:22s}  {arrays * nbytes / seconds / 1e9:8.1f} GB/s")


if __name__ == "__main__":
    main()

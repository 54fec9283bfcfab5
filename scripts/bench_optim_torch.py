#!/usr/bin/env python3
"""PyTorch's step time for the optimizers `fluxion bench optim` measures, on
one float32 parameter of the same size, with the same thread count:

    /usr/bin/python3 scripts/bench_optim_torch.py --threads 2

Bandwidth counts the same bytes as Fluxion's benchmark: the parameter read
and written, the gradient read, each state tensor read and written.
Not needed to build or test Fluxion (Debian's python3-torch)."""
import argparse

import torch

from bench_ops_torch import median_seconds  # the same timing as the ops benchmark (same folder)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--params", type=int, default=11173962)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    makers = {
        "sgd": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9),
        "adam": lambda p: torch.optim.Adam([p]),
        "amsgrad": lambda p: torch.optim.Adam([p], amsgrad=True),
        "adamw": lambda p: torch.optim.AdamW([p]),
        "adagrad": lambda p: torch.optim.Adagrad([p]),
        "rmsprop": lambda p: torch.optim.RMSprop([p], momentum=0.9),
    }
    print(f"torch {torch.__version__} bench optim: {args.params} float32 parameters, {torch.get_num_threads()} threads")
    for name, make in makers.items():
        p = torch.randn(args.params, requires_grad=True)
        p.grad = torch.randn(args.params) * 1e-3
        opt = make(p)
        opt.step()
        state_tensors = sum(1 for v in opt.state[p].values() if torch.is_tensor(v) and v.numel() == p.numel())
        seconds = median_seconds(opt.step, args.seconds)
        rate = (3 + 2 * state_tensors) * 4.0 * args.params / seconds / 1e9
        print(f"  {name:12s} {seconds * 1e3:8.2f} ms  {rate:6.1f} GB/s  ({state_tensors} state tensors)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PyTorch's step time for the optimizers `fluxion bench optim` measures, on
one float32 parameter of the same size, with the same thread count:

    .venv-compare/bin/python scripts/bench_optim_torch.py --threads 2

Each optimizer is timed in every implementation this PyTorch offers on the
CPU: the single-tensor loop ("single"), the multi-tensor one (`foreach=True`)
and the fused kernel (`fused=True`, PyTorch 2.4 and later for SGD, Adam,
AdamW and Adagrad); the last column names the fastest, the peer Fluxion's
optimizer step is held against. Bandwidth counts the same bytes as Fluxion's
benchmark: the parameter read and written, the gradient read, each state
tensor read and written. Runs with the comparison environment's PyTorch
(scripts/torch_env.sh) or Debian's 1.13; not needed to build or test Fluxion."""
import argparse

import torch

from bench_ops_torch import median_seconds  # the same timing as the ops benchmark (same folder)

# name: (constructor, its options) as `fluxion bench optim` runs them.
OPTIMIZERS = {
    "sgd": (torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    "adam": (torch.optim.Adam, {}),
    "amsgrad": (torch.optim.Adam, dict(amsgrad=True)),
    "adamw": (torch.optim.AdamW, {}),
    "adagrad": (torch.optim.Adagrad, {}),
    "rmsprop": (torch.optim.RMSprop, dict(momentum=0.9)),
}
IMPLEMENTATIONS = {"single": dict(foreach=False), "foreach": dict(foreach=True), "fused": dict(fused=True)}


def time_step(make, params, seconds):
    """(median seconds of one step, state tensors), or None where this
    PyTorch does not offer the implementation on the CPU."""
    p = torch.randn(params, requires_grad=True)
    p.grad = torch.randn(params) * 1e-3
    try:
        opt = make(p)
        opt.step()
    except (RuntimeError, TypeError, ValueError):  # "fused=True requires ...", an unknown keyword
        return None
    state_tensors = sum(1 for v in opt.state[p].values() if torch.is_tensor(v) and v.numel() == p.numel())
    return median_seconds(opt.step, seconds), state_tensors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--params", type=int, default=11173962)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__} bench optim: {args.params} float32 parameters, {torch.get_num_threads()} threads")
    print(f"  {'optimizer':12s} " + " ".join(f"{name:>21s}" for name in IMPLEMENTATIONS) + "  fastest")
    for name, (constructor, options) in OPTIMIZERS.items():
        cells, best = [], None
        for implementation, flag in IMPLEMENTATIONS.items():
            timed = time_step(lambda p: constructor([p], **options, **flag), args.params, args.seconds)
            if timed is None:
                cells.append(f"{'-':>21s}")
                continue
            seconds, state_tensors = timed
            rate = (3 + 2 * state_tensors) * 4.0 * args.params / seconds / 1e9
            cells.append(f"{seconds * 1e3:8.2f} ms {rate:5.1f} GB/s")
            if best is None or seconds < best[1]:
                best = (implementation, seconds, rate)
        print(f"  {name:12s} " + " ".join(cells) +
              f"  {best[0]} {best[1] * 1e3:.2f} ms {best[2]:.1f} GB/s")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PyTorch's figure for `fluxion bench --model NAME`: the same training step
(zero_grad, forward, cross-entropy, backward, SGD with lr 0.1, momentum 0.9
and weight decay 5e-4) of the same model definition (torch_models.py) on the
same random input shape, with the same thread count, warm-up and median step
time, and the same last line:

    .venv-compare/bin/python scripts/bench_torch.py --model resnet18 --batch-size 128 --threads 2
    ...
    resnet18 batch 128 threads 2: <X> img/s

--eval times the forward pass alone in eval mode under torch.no_grad().
--channels-last stores the model's weights and the input in
torch.channels_last (NHWC), which oneDNN's convolutions often prefer on the
CPU; scripts/compare_torch.sh times both layouts and counts the faster.
--compile times torch.compile(model) (inductor), compiled by one untimed
pass before the warm-up; "compile failed: ..." and exit 3 where this machine
cannot compile it (a missing C++ compiler, an old torch).
--device cuda runs it on the GPU (eager mode, cuDNN's default heuristics as
Fluxion's, TF32 on for matmuls and convolutions as Fluxion's default), with
torch.cuda.synchronize() before each clock read, as `fluxion bench --device
cuda` synchronises.
It also prints the model's forward FLOPs per image (convolutions and linear
layers, 2 flops per multiply-add, as a direct convolution does them; a
training step is counted as 3x that).
Runs with any PyTorch: the comparison environment's (scripts/torch_env.sh,
the peer of docs/benchmarks.md) or Debian's python3-torch 1.13. Not needed to
build or test Fluxion.
"""
import argparse
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_models import make_model  # the same definitions as Fluxion's (same folder)

MODEL_NAMES = ["resnet18", "resnet34", "densenet121", "resnet20", "resnet20b", "resnet32", "resnet44", "resnet56",
               "resnet110", "small_cnn"]  # nn::model_names()


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def forward_flops_per_image(model, x):
    """Multiply-adds of every Conv2d and Linear in one forward pass, x 2, per image."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kernel = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            total += output.numel() * kernel
        else:
            total += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(x[:1])
    for h in handles:
        h.remove()
    return 2.0 * total


def compiled(model, x, eval_only):
    """torch.compile(model), compiled here by one forward (and backward) pass
    so that a failure is reported before the timing starts; exit 3 if it fails."""
    try:
        run = torch.compile(model)
        if eval_only:
            with torch.no_grad():
                run(x)
        else:
            run(x).sum().backward()
            model.zero_grad(set_to_none=True)
        return run
    except Exception as e:  # inductor raises many kinds; any of them means "not on this machine"
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"compile failed: {type(e).__name__}: {first_line}")
        sys.exit(3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True, choices=MODEL_NAMES)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--eval", action="store_true")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--channels-last", action="store_true", help="NHWC weights and input")
    parser.add_argument("--compile", action="store_true", help="time torch.compile(model) (inductor)")
    args = parser.parse_args()
    for name in ("batch_size", "threads", "steps", "classes"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must be at least 0")
    rss_at_start = peak_rss_mib()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # Fluxion's default (cuda::allow_tf32)
        torch.backends.cudnn.allow_tf32 = True

    def finish():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    in_channels, side = (1, 28) if args.model == "small_cnn" else (3, 32)
    model = make_model(args.model, args.classes, in_channels, side).to(device)
    x = torch.randn(args.batch_size, in_channels, side, side).to(device)
    y = torch.randint(0, args.classes, (args.batch_size,)).to(device)
    layout = "channels_last" if args.channels_last else "nchw"
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    flops = forward_flops_per_image(model, x)
    model.train(not args.eval)
    params = sum(p.numel() for p in model.parameters())
    run = model
    if args.compile:
        run = compiled(model, x, args.eval)
    what = "eval forward (no grad)" if args.eval else "train step (SGD lr 0.1, momentum 0.9, weight decay 5e-4)"
    mode = "torch.compile (inductor)" if args.compile else "eager"
    print(f"torch {torch.__version__} bench: {args.model} ({params} parameters), {what}, batch {args.batch_size} "
          f"of {in_channels}x{side}x{side}, {torch.get_num_threads()} threads, {device}, {layout}, {mode}")
    print(f"forward {flops / 1e9:.4f} GFLOP per image (conv + linear); "
          f"{(1 if args.eval else 3) * flops / 1e9:.4f} GFLOP per image per timed step")

    def step():
        t0 = time.perf_counter()
        if args.eval:
            with torch.no_grad():
                logits = run(x)
            finish()
            seconds = time.perf_counter() - t0
            return seconds, F.cross_entropy(logits, y).item()
        opt.zero_grad(set_to_none=True)  # Fluxion's zero_grad (1.13 defaults to zeroing)
        loss = F.cross_entropy(run(x), y)
        loss.backward()
        opt.step()
        finish()
        seconds = time.perf_counter() - t0
        return seconds, loss.item()

    for i in range(args.warmup):
        seconds, loss = step()
        print(f"warm-up {i + 1:2d}  {seconds * 1e3:9.1f} ms  loss {loss:.4f}")
    samples = []
    finite = True
    for i in range(args.steps):
        seconds, loss = step()
        samples.append(seconds)
        finite = finite and math.isfinite(loss)
        print(f"step    {i + 1:2d}  {seconds * 1e3:9.1f} ms  loss {loss:.4f}")
    mid = statistics.median(samples)
    print(f"median step {mid * 1e3:.1f} ms (min {min(samples) * 1e3:.1f}, max {max(samples) * 1e3:.1f}) "
          f"over {args.steps} steps after {args.warmup} warm-up")
    if not finite:
        print("warning: the loss was not finite")
    print(f"peak RSS {peak_rss_mib():.1f} MiB (at start, after importing torch: {rss_at_start:.1f} MiB)")
    print(f"{args.model} batch {args.batch_size} threads {torch.get_num_threads()}: {args.batch_size / mid:.1f} img/s")


if __name__ == "__main__":
    main()

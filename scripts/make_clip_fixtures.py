#!/usr/bin/env python3
"""PyTorch-parity fixtures for gradient clipping (optim/clip.h).

Run in the comparison environment (PyTorch 2.x), from anywhere:

    /work/main/.venv-compare/bin/python scripts/make_clip_fixtures.py

It writes tests/fixtures/clip.json, which tests/test_clip.cpp reads. The
output is deterministic: every draw comes from a seeded torch.Generator and
every computation is float64, whose results do not depend on the CPU.

File format (numbers in Python's float repr, which round-trips float64):

    {"generator": "scripts/make_clip_fixtures.py", "torch_version": "...",
     "cases": [{
       "name": "...",
       "shapes": [[3, 4], [5], ...],
       "grads": [[...row-major...] | null, ...],   # null: a parameter without .grad
       "max_norm": X, "clip_value": C,
       "total_norm": N,                  # clip_grad_norm_'s return value (the norm before clipping)
       "clipped_by_norm": [[...] | null, ...],    # the gradients after clip_grad_norm_(max_norm)
       "clipped_by_value": [[...] | null, ...]}]} # the gradients after clip_grad_value_(clip_value)
"""
import json
import pathlib

import torch

SHAPES = [[3, 4], [5], [2, 3, 2, 2], [1]]


def gradients(seed, scale, shapes=SHAPES, missing=()):
    generator = torch.Generator().manual_seed(seed)
    return [None if i in missing else torch.randn(shape, generator=generator, dtype=torch.float64) * scale
            for i, shape in enumerate(shapes)]


def params_with(grads, shapes):
    params = []
    for g, shape in zip(grads, shapes):
        p = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
        p.grad = None if g is None else g.clone()
        params.append(p)
    return params


def flat(params):
    return [None if p.grad is None else p.grad.reshape(-1).tolist() for p in params]


def total_norm(grads):
    return torch.nn.utils.get_total_norm([g for g in grads if g is not None]).item()


def case(name, grads, max_norm, clip_value, shapes=SHAPES):
    by_norm = params_with(grads, shapes)
    total = torch.nn.utils.clip_grad_norm_(by_norm, max_norm)
    by_value = params_with(grads, shapes)
    torch.nn.utils.clip_grad_value_(by_value, clip_value)
    return {"name": name, "shapes": shapes, "grads": flat(params_with(grads, shapes)), "max_norm": max_norm,
            "clip_value": clip_value, "total_norm": total.item(), "clipped_by_norm": flat(by_norm),
            "clipped_by_value": flat(by_value)}


def main():
    cases = [
        # The norm (about 5) above the maximum: every gradient scaled down.
        case("norm above max", gradients(1, 1.0), 1.0, 0.5),
        # Below: torch's factor is clamped to 1, nothing changes.
        case("norm below max", gradients(2, 0.1), 10.0, 0.05),
        # The maximum equal to the norm: only the 1e-6 in the factor scales.
        case("max equal to the norm", gradients(3, 1.0), total_norm(gradients(3, 1.0)), 2.0),
        # Large gradients, a tiny maximum (the trainer's bounded-update test).
        case("large gradients, tiny max", gradients(4, 1e3), 1e-3, 1e-3),
        # All zero: norm 0, factor max_norm / 1e-6 clamped to 1.
        case("zero gradient", [torch.zeros(s, dtype=torch.float64) for s in SHAPES], 1.0, 0.1),
        # One zero tensor beside non-zero ones, one parameter without .grad.
        case("a zero tensor and a missing grad",
             [g if i != 1 else torch.zeros(SHAPES[1], dtype=torch.float64)
              for i, g in enumerate(gradients(5, 2.0, missing=(3,)))], 0.5, 1.0),
    ]
    out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "clip.json"
    out.write_text(json.dumps({"generator": "scripts/make_clip_fixtures.py", "torch_version": torch.__version__,
                               "cases": cases}, indent=1) + "\n")
    print("wrote", out, "with torch", torch.__version__)


if __name__ == "__main__":
    main()

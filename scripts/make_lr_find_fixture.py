#!/usr/bin/env python3
"""The reference numbers of fluxion lr-find's curve arithmetic (train/lr_find.h).

Run in the comparison environment (PyTorch 2.x and numpy):

    /work/main/.venv-compare/bin/python scripts/make_lr_find_fixture.py

It writes tests/fixtures/lr_find.json, which tests/test_lr_find.cpp reads:

- "sequence": the lrs of torch-lr-finder's ExponentialLR (lr_i = start x
  (end / start)^(i / (steps - 1))) for a few (start, end, steps).
- "smoothing": fastai's AvgSmoothLoss on a fixed loss stream: val =
  torch.lerp(loss, val, beta) in float64, reported as val / (1 - beta^count).
- "suggestion": a synthetic curve (falling, flat, then rising, with seeded
  noise) smoothed as above; the steepest-descent rule as numpy computes it,
  over the points from skip_start on (0, and fastai's num_it // 10):
  numpy.gradient(smoothed[skip:m + 1], log10(lr[skip:m + 1])) with m the
  argmin of smoothed[skip:], its argmin the suggested step; and minimum / 10.
The output is deterministic (numpy's generator is seeded).
"""
import json
import math
import os

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sequence(start, end, steps):
    # torch-lr-finder's ExponentialLR.get_lr: base_lr * (end_lr / base_lr) ** r, r = it / (num_iter - 1)
    return [start * (end / start) ** (i / (steps - 1)) for i in range(steps)]


def fastai_smooth(losses, beta):
    val = torch.tensor(0.0, dtype=torch.float64)
    out = []
    for count, loss in enumerate(losses, start=1):
        val = torch.lerp(torch.tensor(loss, dtype=torch.float64), val, beta)
        out.append(float(val / (1 - beta ** count)))
    return out


def suggestion_case():
    rng = np.random.default_rng(22)
    steps = 120
    lrs = sequence(1e-6, 10.0, steps)
    x = np.log10(np.array(lrs))
    # falls around lr 1e-3, rises sharply beyond 1
    clean = 2.3 - 1.8 / (1 + np.exp(-3.0 * (x + 3.0))) + 0.4 * np.exp(2.5 * (x - 0.3))
    losses = [float(v) for v in clean + 0.03 * rng.standard_normal(steps)]
    beta = 0.9
    smoothed = fastai_smooth(losses, beta)
    case = {"lrs": lrs, "losses": losses, "beta": beta, "smoothed": smoothed, "rules": []}
    # fastai's lr_find leaves out the first num_it // 10 points (and, here,
    # nothing at the end: the steepest point is sought before the minimum).
    for skip in (0, steps // 10):
        m = skip + int(np.argmin(smoothed[skip:]))
        grads = np.gradient(np.array(smoothed[skip: m + 1]), x[skip: m + 1])
        steepest = skip + int(np.argmin(grads))
        case["rules"].append({"skip_start": skip, "minimum_step": m, "minimum_lr": lrs[m] / 10,
                              "steepest_step": steepest, "steepest_lr": lrs[steepest],
                              "steepest_slope": float(grads[steepest - skip])})
    return case


def main():
    rng = np.random.default_rng(7)
    stream = [float(v) for v in 2.0 + rng.standard_normal(50)]
    out = {
        "generator": "scripts/make_lr_find_fixture.py",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "sequence": [{"start": s, "end": e, "steps": n, "lrs": sequence(s, e, n)}
                     for s, e, n in [(1e-7, 10.0, 100), (1e-4, 1.0, 2), (3e-5, 0.7, 37)]],
        "smoothing": [{"beta": b, "losses": stream, "smoothed": fastai_smooth(stream, b)} for b in (0.98, 0.5, 0.0)],
        "suggestion": suggestion_case(),
    }
    path = os.path.join(ROOT, "tests", "fixtures", "lr_find.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, allow_nan=False)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()

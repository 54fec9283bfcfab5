#!/usr/bin/env python3
"""Writes tests/fixtures/schedules.json: the learning rates that PyTorch's own
schedulers set, step by step, on a float64 dummy optimizer, for the
schedules `fluxion train` builds from --schedule, --warmup-* and
--schedule-per (docs/training.md, "Schedules"). tests/test_schedules.cpp
replays each case through Fluxion and compares to 1e-12 relative.

Each case names the Fluxion settings that should reproduce it ("fluxion":
the TrainConfig keys, plus steps_per_epoch, the batches per epoch of a
--schedule-per step run) and PyTorch's scheduler ("torch", for the reader).
Curve cases list the lr of scheduler steps 0..N-1; plateau cases the lr
after each ReduceLROnPlateau.step(metric) (entry 0: before any), and the
scheduler's state after each step.

Run in the comparison environment (PyTorch 2.x):
    /work/main/.venv-compare/bin/python scripts/make_schedule_fixtures.py
"""
import json
import math
import os

import torch
from torch.optim.lr_scheduler import (CosineAnnealingLR, LinearLR, MultiStepLR, OneCycleLR, ReduceLROnPlateau,
                                      SequentialLR, StepLR)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "schedules.json")


def dummy_optimizer(lr):
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    return torch.optim.SGD([p], lr=lr)


def lr_of(opt):
    return float(opt.param_groups[0]["lr"])


def curve(lr, steps, make):
    """The lr at scheduler steps 0..steps-1 of the scheduler make(opt) builds."""
    opt = dummy_optimizer(lr)
    scheduler = make(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(lr_of(opt))
        opt.step()  # as a training loop does, so PyTorch does not warn about the order
        scheduler.step()
    return lrs


def warmup_then(warmup, start_factor, main):
    """SequentialLR([LinearLR(start_factor, total_iters=warmup), main], milestones=[warmup])."""
    def make(opt):
        return SequentialLR(opt, [LinearLR(opt, start_factor=start_factor, total_iters=warmup), main(opt)],
                            milestones=[warmup])
    return make


def curve_case(name, torch_text, fluxion, lr, steps, make):
    return {"name": name, "kind": "curve", "torch": torch_text, "fluxion": dict(fluxion, lr=lr),
            "lrs": curve(lr, steps, make)}


def plateau_case(name, fluxion, lr, options, metrics):
    opt = dummy_optimizer(lr)
    scheduler = ReduceLROnPlateau(opt, **options)
    lrs, states = [lr_of(opt)], []
    for m in metrics:
        opt.step()
        scheduler.step(m)
        lrs.append(lr_of(opt))
        states.append({"best": scheduler.best, "num_bad_epochs": scheduler.num_bad_epochs,
                       "cooldown_counter": scheduler.cooldown_counter, "last_epoch": scheduler.last_epoch})
    return {"name": name, "kind": "plateau", "torch": f"ReduceLROnPlateau({options})", "fluxion": dict(fluxion, lr=lr),
            "metrics": metrics, "lrs": lrs, "states": states}


def main():
    third = 1.0 / 3.0
    cases = [
        # Per epoch: warmup over 5 epochs, then a bare cosine over the 25 after it.
        curve_case("warmup_epochs_cosine", "SequentialLR([LinearLR(1/3, total_iters=5), CosineAnnealingLR(T_max=25)], [5])",
                   {"schedule": "cosine", "epochs": 30, "warmup_epochs": 5, "warmup_start_factor": third}, 0.1, 30,
                   warmup_then(5, third, lambda o: CosineAnnealingLR(o, T_max=25))),
        # Per step, 4 epochs of 9 batches: warmup over 6 steps, cosine over the other 30.
        curve_case("warmup_steps_cosine_per_step",
                   "SequentialLR([LinearLR(0.1, total_iters=6), CosineAnnealingLR(T_max=30)], [6]), stepped per batch",
                   {"schedule": "cosine", "epochs": 4, "schedule_per": "step", "steps_per_epoch": 9,
                    "warmup_steps": 6, "warmup_start_factor": 0.1}, 0.05, 36,
                   warmup_then(6, 0.1, lambda o: CosineAnnealingLR(o, T_max=30))),
        # Per step, 5 epochs of 4 batches: 1 warmup epoch (4 steps), cosine:3 (12 steps) after it.
        curve_case("warmup_epochs_cosine_T_per_step",
                   "SequentialLR([LinearLR(1/3, total_iters=4), CosineAnnealingLR(T_max=12)], [4]), stepped per batch",
                   {"schedule": "cosine:3", "epochs": 5, "schedule_per": "step", "steps_per_epoch": 4,
                    "warmup_epochs": 1, "warmup_start_factor": third}, 0.2, 16,
                   warmup_then(4, third, lambda o: CosineAnnealingLR(o, T_max=12))),
        curve_case("warmup_multistep", "SequentialLR([LinearLR(0.25, total_iters=3), MultiStepLR([4, 9], 0.2)], [3])",
                   {"schedule": "multistep:4,9:0.2", "epochs": 16, "warmup_epochs": 3, "warmup_start_factor": 0.25},
                   0.1, 16, warmup_then(3, 0.25, lambda o: MultiStepLR(o, milestones=[4, 9], gamma=0.2))),
        curve_case("warmup_multistep_per_step",
                   "SequentialLR([LinearLR(0.5, total_iters=10), MultiStepLR([5, 15], 0.5)], [10]), stepped per batch",
                   {"schedule": "multistep:1,3:0.5", "epochs": 6, "schedule_per": "step", "steps_per_epoch": 5,
                    "warmup_epochs": 2, "warmup_start_factor": 0.5}, 0.1, 30,
                   warmup_then(10, 0.5, lambda o: MultiStepLR(o, milestones=[5, 15], gamma=0.5))),
        curve_case("warmup_step", "SequentialLR([LinearLR(1/3, total_iters=2), StepLR(2, 0.5)], [2])",
                   {"schedule": "step:2:0.5", "epochs": 12, "warmup_epochs": 2, "warmup_start_factor": third}, 0.3, 12,
                   warmup_then(2, third, lambda o: StepLR(o, step_size=2, gamma=0.5))),
        curve_case("cosine_per_step", "CosineAnnealingLR(T_max=33), stepped per batch",
                   {"schedule": "cosine", "epochs": 3, "schedule_per": "step", "steps_per_epoch": 11}, 0.1, 33,
                   lambda o: CosineAnnealingLR(o, T_max=33)),
        curve_case("onecycle", "OneCycleLR(max_lr=0.1, total_steps=40)",
                   {"schedule": "onecycle", "epochs": 40}, 0.1, 40,
                   lambda o: OneCycleLR(o, max_lr=0.1, total_steps=40, cycle_momentum=False)),
        curve_case("onecycle_pct_per_step", "OneCycleLR(max_lr=0.02, total_steps=21, pct_start=0.25), stepped per batch",
                   {"schedule": "onecycle:0.25", "epochs": 3, "schedule_per": "step", "steps_per_epoch": 7}, 0.02, 21,
                   lambda o: OneCycleLR(o, max_lr=0.02, total_steps=21, pct_start=0.25, cycle_momentum=False)),
    ]
    # A metric stream with improvements big and small, plateaus and relapses.
    stream = [1.0, 0.9, 0.95, 0.899, 0.9, 0.91, 0.85, 0.86, 0.849, 0.87, 0.88, 0.8, 0.81, 0.82, 0.83, 0.84,
              0.79, 0.795, 0.8, 0.81, 0.78, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    accuracy = [0.5, 0.6, 0.62, 0.61, 0.63, 0.63, 0.64, 0.7, 0.69, 0.7, 0.71, 0.705, 0.7, 0.72, 0.72, 0.72, 0.72,
                0.73, 0.73, 0.73, 0.73, 0.73]
    cases += [
        plateau_case("plateau_defaults", {"schedule": "plateau"}, 0.1, {},
                     stream + [0.9] * 12),
        plateau_case("plateau_patience_cooldown_min_lr",
                     {"schedule": "plateau:factor=0.5,patience=2,cooldown=1,threshold=0.01,min_lr=0.02"}, 0.1,
                     dict(factor=0.5, patience=2, cooldown=1, threshold=0.01, min_lr=0.02), stream),
        plateau_case("plateau_abs_threshold",
                     {"schedule": "plateau:threshold_mode=abs,threshold=0.02,patience=1,factor=0.3"}, 0.1,
                     dict(threshold_mode="abs", threshold=0.02, patience=1, factor=0.3), stream),
        plateau_case("plateau_max_rel",
                     {"schedule": "plateau:mode=max,patience=1,cooldown=2,factor=0.2,threshold=0.005"}, 0.05,
                     dict(mode="max", patience=1, cooldown=2, factor=0.2, threshold=0.005), accuracy),
        plateau_case("plateau_max_abs", {"schedule": "plateau:mode=max,threshold_mode=abs,threshold=0.01,patience=0"},
                     0.05, dict(mode="max", threshold_mode="abs", threshold=0.01, patience=0), accuracy),
        # eps: a reduction smaller than eps is not made.
        plateau_case("plateau_eps", {"schedule": "plateau:factor=0.5,patience=0,eps=0.001"}, 0.01,
                     dict(factor=0.5, patience=0, eps=1e-3), [1.0] * 8),
    ]
    for c in cases:
        for lr in c["lrs"]:
            assert math.isfinite(lr)
    data = {"torch_version": torch.__version__, "script": "scripts/make_schedule_fixtures.py", "cases": cases}
    with open(OUT, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)} (torch {torch.__version__})")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""PyTorch-parity fixtures for Fluxion's optimizers.

Writes tests/fixtures/optim_trajectories.json (relative to the repository
root, whatever the current directory): for each case, an optimizer built by
its Fluxion name (optim/make_optimizer.h) with options by Fluxion name, the
initial float64 parameters, and the parameters after every step as PyTorch
computes them. tests/test_optim_fixtures.cpp replays each case with Fluxion
and compares every element after every step.

Rerun (Debian's PyTorch, not the pyenv python3) after changing a case:

    /usr/bin/python3 scripts/make_fixtures.py

The output is deterministic: every random draw comes from a torch.Generator
seeded per case, and numbers are written with Python's float repr, which
round-trips float64 exactly.

File format:

    {"generator": "scripts/make_fixtures.py", "torch_version": "...",
     "cases": [{
       "name": "...", "optimizer": "<make_optimizer name>",
       "options": {...},            # Fluxion option names (PyTorch's, but betas -> beta1, beta2);
                                    # options not listed take their defaults, which must match PyTorch's
       "shapes": [[3, 2], [2]], "initial": [[...row-major...], [...]],
       "steps": N,
       "lr_changes": [[k, lr]],     # before step k (0-based) every group's lr becomes lr
       "save_load_at": k,           # before step k (after the lr changes at k) the optimizer
                                    # state goes through state_dict()/load_state_dict() into a
                                    # freshly built optimizer (built with the original options)
       "gradients": [[[...], ...], ...],   # stream cases: per step, per parameter
       "model": null | {"kind": "mlp", "x": [...], "x_shape": [8, 3], "y": [...], "classes": 2},
       "trajectory": [[[...], ...], ...]}]}  # parameters after each step

Two kinds of case:
  * stream: the gradients are drawn in advance (randn, times a per-step scale
    10^U(-3, 1) and a fixed per-element scale spread evenly over 10^-2..1) and stored.
  * model ("mlp"): parameters W1 [4, 3], b1 [4], W2 [2, 4], b2 [2]; the gradient
    at each step is that of
        loss = cross_entropy(linear(tanh(linear(x, W1, b1)), W2, b2), y)   (mean)
    at the current parameters; the C++ test computes it with Fluxion in float64.

torch.optim optimizers run on the single-tensor path (foreach=False). The
script does the same state_dict round trip as the C++ test at save_load_at.

AdaBound / AMSBound are not in torch.optim: the class AdaBound below is our
own transcription, in current PyTorch calls, of the semantics of Luo et al.'s
reference implementation, Luolc/AdaBound adabound/adabound.py, checked at
commit 2e928c3007a2fc44af0e4c97e343e1fed6986e44 (class AdaBound, not
AdaBoundW). In particular base_lr is each group's lr when the optimizer is
constructed (not saved in state_dict), and final_lr is scaled by
lr / base_lr, so an lr change also moves the bounds.

AdaBayes / AdaBayes-FP likewise: the class AdaBayes below is our own
transcription of the semantics of the paper's reference code,
LaurenceA/adabayes at commit 7ea53ed22ec23b379d5e0d50a4b0ea1f1f04a69a
(adabayes.py, adabayesfp.py); its docstring lists the update.
"""

import copy
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "tests", "fixtures", "optim_trajectories.json")
DTYPE = torch.float64

STREAM_SHAPES = [[3, 2], [2]]
MLP_SHAPES = [[4, 3], [4], [2, 4], [2]]


class AdaBound(torch.optim.Optimizer):
    """AdaBound / AMSBound with the reference code's semantics (see the module
    docstring). `clip_log`, when a list, receives one (step index, lower hits,
    upper hits, elements) tuple per parameter update, for the coverage checks."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), final_lr=0.1, gamma=1e-3, eps=1e-8,
                 weight_decay=0.0, amsbound=False):
        defaults = dict(lr=lr, betas=betas, final_lr=final_lr, gamma=gamma, eps=eps,
                        weight_decay=weight_decay, amsbound=amsbound)
        super().__init__(params, defaults)
        self.base_lrs = [group["lr"] for group in self.param_groups]
        self.clip_log = None

    @torch.no_grad()
    def step(self):
        for group, base_lr in zip(self.param_groups, self.base_lrs):
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    if group["amsbound"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                if group["weight_decay"] != 0:
                    grad = grad.add(p, alpha=group["weight_decay"])
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                if group["amsbound"]:
                    max_exp_avg_sq = state["max_exp_avg_sq"]
                    torch.max(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    denom = max_exp_avg_sq.sqrt().add_(group["eps"])
                else:
                    denom = exp_avg_sq.sqrt().add_(group["eps"])
                bias_correction1 = 1 - beta1 ** t
                bias_correction2 = 1 - beta2 ** t
                step_size = group["lr"] * math.sqrt(bias_correction2) / bias_correction1
                final_lr = group["final_lr"] * group["lr"] / base_lr
                lower = final_lr * (1 - 1 / (group["gamma"] * t + 1))
                upper = final_lr * (1 + 1 / (group["gamma"] * t))
                rate = torch.full_like(denom, step_size).div_(denom)
                if self.clip_log is not None:
                    self.clip_log.append((t, int((rate < lower).sum()), int((rate > upper).sum()), rate.numel()))
                rate.clamp_(lower, upper).mul_(exp_avg)
                p.add_(-rate)


class AdaBayes(torch.optim.Optimizer):
    """AdaBayes (fixed_point=False) and AdaBayes-FP (fixed_point=True) with the semantics of the
    author's reference code, LaurenceA/adabayes (adabayes.py, adabayesfp.py) at commit
    7ea53ed22ec23b379d5e0d50a4b0ea1f1f04a69a: our own transcription, not a copy. Per step, with
    g = batch_size x the mean-loss gradient (the paper's summed-loss gradient), t the step count,
    lr0 the group's lr at construction and sigma^2 = sgd_lr x (lr / lr0) / batch_size:
      m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
      AdaBayes:    prior = exp(-lr^2/sigma^2) post + sigma^2 (1 - exp(-lr^2/sigma^2))   (post starts at sgd_lr/batch)
                   post = 1 / (1/prior + g^2);  p -= post m / (1 - b1^t);  p *= 1 - weight_decay lr / lr0
      AdaBayes-FP: u = v / (1 - b2^t) + eps;  1/post = sqrt(u / lr^2 + 1/(4 sigma^4)) + 1/(2 sigma^2)
                   p -= m / (1 - b1^t) / (1/post);  p *= 1 - weight_decay
    Unlike the reference, p.grad is left unscaled (Fluxion leaves .grad() alone too)."""

    def __init__(self, params, lr=1e-3, sgd_lr=0.1, batch_size=128, betas=(0.9, 0.999), eps=1e-8,
                 weight_decay=5e-5, fixed_point=False):
        defaults = dict(lr=lr, sgd_lr=sgd_lr, batch_size=batch_size, betas=betas, eps=eps,
                        weight_decay=weight_decay)
        super().__init__(params, defaults)
        self.fixed_point = fixed_point
        self.initial_lrs = [group["lr"] for group in self.param_groups]

    @torch.no_grad()
    def step(self):
        for group, lr0 in zip(self.param_groups, self.initial_lrs):
            beta1, beta2 = group["betas"]
            lr, batch = group["lr"], group["batch_size"]
            sigma2 = group["sgd_lr"] * (lr / lr0) / batch
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad * batch
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    if not self.fixed_point:
                        state["posterior_variance"] = torch.full_like(p, group["sgd_lr"] / batch)
                state["step"] += 1
                t = state["step"]
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                correction1 = 1 - beta1 ** t
                if not self.fixed_point:
                    post = state["posterior_variance"]
                    decay = math.exp(-lr * lr / sigma2)
                    post.mul_(decay).add_(sigma2 * (1 - decay))
                    post.reciprocal_().addcmul_(g, g).reciprocal_()
                    p.addcmul_(m, post, value=-1 / correction1)
                    p.mul_(1 - group["weight_decay"] * lr / lr0)
                else:
                    u = v / (1 - beta2 ** t) + group["eps"]
                    half = 0.5 / sigma2
                    precision = (u / (lr * lr) + half * half).sqrt() + half
                    p.addcdiv_(m, precision, value=-1 / correction1)
                    p.mul_(1 - group["weight_decay"])


def build(name, params, options):
    """The PyTorch optimizer that Fluxion's make_optimizer(name, params, options) should match."""
    o = dict(options)
    betas = (o.pop("beta1", 0.9), o.pop("beta2", 0.999))
    if name == "sgd":
        o["nesterov"] = bool(o.get("nesterov", False))
        return torch.optim.SGD(params, foreach=False, **o)
    if name in ("adam", "amsgrad"):
        o["amsgrad"] = bool(o.get("amsgrad", name == "amsgrad"))
        return torch.optim.Adam(params, betas=betas, foreach=False, **o)
    if name == "adamw":
        o["amsgrad"] = bool(o.get("amsgrad", False))
        return torch.optim.AdamW(params, betas=betas, foreach=False, **o)
    if name == "adagrad":
        return torch.optim.Adagrad(params, foreach=False, **o)
    if name == "rmsprop":
        o["centered"] = bool(o.get("centered", False))
        return torch.optim.RMSprop(params, foreach=False, **o)
    if name in ("adabound", "amsbound"):
        o["amsbound"] = bool(o.get("amsbound", name == "amsbound"))
        return AdaBound(params, betas=betas, **o)
    if name in ("adabayes", "adabayes-fp"):
        return AdaBayes(params, betas=betas, fixed_point=name == "adabayes-fp", **o)
    raise ValueError("unknown optimizer " + name)


def mlp_loss(params, x, y):
    w1, b1, w2, b2 = params
    return F.cross_entropy(F.linear(torch.tanh(F.linear(x, w1, b1)), w2, b2), y)


def flat(t):
    return t.detach().reshape(-1).tolist()


def make_case(name, optimizer, options, kind, seed, steps, lr_changes, save_load_at, grad_scale=1.0,
              element_decades=2.0, init_scale=0.5):
    """Draws the case's data from a generator seeded with `seed`, runs PyTorch, returns the case dict
    (and, for AdaBound, the clip log). Stream gradients are multiplied by grad_scale, and by a fixed
    per-element scale 10^-(element_decades * u), the u evenly spread over (0, 1) in a random order."""
    assert steps >= 100 and lr_changes and 0 < save_load_at < steps
    gen = torch.Generator().manual_seed(seed)
    shapes = STREAM_SHAPES if kind == "stream" else MLP_SHAPES
    initial = [torch.randn(s, generator=gen, dtype=DTYPE) * init_scale for s in shapes]
    case = {"name": name, "optimizer": optimizer, "options": options, "shapes": shapes,
            "initial": [flat(t) for t in initial], "steps": steps,
            "lr_changes": [[k, lr] for k, lr in lr_changes], "save_load_at": save_load_at}

    gradients = None
    if kind == "stream":
        # Evenly spread exponents in a random order, so every case has both small and large elements.
        sizes = [math.prod(s) for s in shapes]
        order = torch.randperm(sum(sizes), generator=gen).to(DTYPE)
        exponents = -element_decades * (order + 0.5) / sum(sizes)
        element_scale = [(10.0 ** e).reshape(s) for e, s in zip(exponents.split(sizes), shapes)]
        gradients = []
        for _ in range(steps):
            scale = grad_scale * 10.0 ** (torch.rand((), generator=gen, dtype=DTYPE).item() * 4 - 3)
            gradients.append([torch.randn(s, generator=gen, dtype=DTYPE) * scale * e
                              for s, e in zip(shapes, element_scale)])
        case["gradients"] = [[flat(g) for g in step] for step in gradients]
        case["model"] = None
    else:
        x = torch.randn(8, 3, generator=gen, dtype=DTYPE)
        # Labels that depend on x (a tilted XOR-like rule), so training has something to learn.
        y = ((x[:, 0] * x[:, 1] + 0.3 * x[:, 2]) > 0).long()
        case["model"] = {"kind": "mlp", "x": flat(x), "x_shape": [8, 3], "y": y.tolist(), "classes": 2}

    params = [t.clone().requires_grad_() for t in initial]
    opt = build(optimizer, params, options)
    clip_log = []
    if isinstance(opt, AdaBound):
        opt.clip_log = clip_log
    trajectory = []
    changes = dict(lr_changes)
    for k in range(steps):
        if k in changes:
            for group in opt.param_groups:
                group["lr"] = changes[k]
        if k == save_load_at:
            saved = copy.deepcopy(opt.state_dict())
            opt = build(optimizer, params, options)
            opt.load_state_dict(saved)
            if isinstance(opt, AdaBound):
                opt.clip_log = clip_log
        if gradients is not None:
            for p, g in zip(params, gradients[k]):
                p.grad = g.clone()
        else:
            opt.zero_grad(set_to_none=True)
            mlp_loss(params, x, y).backward()
        opt.step()
        trajectory.append([flat(p) for p in params])
    case["trajectory"] = trajectory
    for step in trajectory:
        for values in step:
            assert all(math.isfinite(v) for v in values), name + ": non-finite parameter"
    if kind == "model":
        case["final_loss"] = mlp_loss(params, x, y).item()
        case["initial_loss"] = mlp_loss([t.clone() for t in initial], x, y).item()
    return case, clip_log


def check_adabound_coverage(case, clip_log):
    """Every AdaBound case must clip after the lr change, where the bounds have been moved by
    final_lr * lr / base_lr; stream cases must clip on both sides, and at the lower bound after the
    change too."""
    change = case["lr_changes"][0][0]
    # clip_log holds one entry per parameter per step, in order.
    per_step = len(case["shapes"])
    before = clip_log[:change * per_step]
    after = clip_log[change * per_step:]
    lower_after = sum(e[1] for e in after)
    upper_after = sum(e[2] for e in after)
    upper_any = sum(e[2] for e in clip_log)
    lower_any = sum(e[1] for e in clip_log)
    counts = {"lower": lower_any, "upper": upper_any, "lower_after_change": lower_after,
              "upper_after_change": upper_after, "updates_before_change": len(before)}
    assert lower_after + upper_after > 0, (case["name"], counts)
    if case["model"] is None:
        assert lower_any > 0 and upper_any > 0 and lower_after > 0, (case["name"], counts)
    return counts


def check_final_lr_scaling_matters(case):
    """Reruns an AdaBound case with base_lr following every lr change (i.e. no final_lr scaling) and
    checks that the trajectory then differs: the fixture really pins the scaling down."""
    shapes = case["shapes"]
    params = [torch.tensor(v, dtype=DTYPE).reshape(s).requires_grad_() for v, s in zip(case["initial"], shapes)]
    opt = build(case["optimizer"], params, case["options"])
    changes = dict((k, lr) for k, lr in case["lr_changes"])
    model = case["model"]
    if model is not None:
        x = torch.tensor(model["x"], dtype=DTYPE).reshape(model["x_shape"])
        y = torch.tensor(model["y"], dtype=torch.long)
    worst = 0.0
    for k in range(case["steps"]):
        if k in changes:
            for group in opt.param_groups:
                group["lr"] = changes[k]
            opt.base_lrs = [changes[k] for _ in opt.param_groups]
        if model is None:
            for p, g, s in zip(params, case["gradients"][k], shapes):
                p.grad = torch.tensor(g, dtype=DTYPE).reshape(s)
        else:
            opt.zero_grad(set_to_none=True)
            mlp_loss(params, x, y).backward()
        opt.step()
        for p, want in zip(params, case["trajectory"][k]):
            want = torch.tensor(want, dtype=DTYPE)
            got = p.detach().reshape(-1)
            worst = max(worst, ((got - want).abs() / want.abs().clamp_min(1e-6)).max().item())
    assert worst > 1e-3, (case["name"], "final_lr scaling does not change the trajectory", worst)
    return worst


def cases():
    """(name, optimizer, options, kind, seed, steps, lr_changes, save_load_at[, grad_scale, element_decades]).
    The AdaBound stream cases use larger gradients spread over more decades so that the clip hits
    both bounds."""
    sgd = [
        ("sgd_plain_stream", "sgd", {"lr": 0.1}, "stream", 101, 120, [(60, 0.01)], 50),
        ("sgd_plain_wd_mlp", "sgd", {"lr": 0.5, "weight_decay": 5e-4}, "model", 102, 110, [(55, 0.1)], 70),
        ("sgd_momentum_wd_stream", "sgd", {"lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4}, "stream", 103,
         120, [(40, 0.005)], 80),
        ("sgd_momentum_mlp", "sgd", {"lr": 0.2, "momentum": 0.9}, "model", 104, 110, [(60, 0.02)], 30),
        ("sgd_momentum_dampening_stream", "sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1}, "stream", 105,
         110, [(50, 0.01)], 50),
        ("sgd_momentum_dampening_wd_mlp", "sgd", {"lr": 0.2, "momentum": 0.9, "dampening": 0.1,
                                                  "weight_decay": 5e-4}, "model", 106, 110, [(70, 0.05)], 45),
        ("sgd_momentum_nesterov_wd_stream", "sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True,
                                                    "weight_decay": 5e-4}, "stream", 107, 120, [(60, 0.01)], 50),
        ("sgd_momentum_nesterov_mlp", "sgd", {"lr": 0.2, "momentum": 0.9, "nesterov": True}, "model", 108, 110,
         [(50, 0.02)], 75),
    ]
    adam = [
        ("adam_stream", "adam", {"lr": 0.01}, "stream", 201, 120, [(60, 0.001)], 50),
        ("adam_wd_stream", "adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "weight_decay": 1e-2}, "stream",
         202, 110, [(40, 0.003)], 70),
        ("adam_mlp", "adam", {"lr": 0.05}, "model", 203, 110, [(60, 0.005)], 30),
        ("adam_wd_mlp", "adam", {"lr": 0.05, "eps": 1e-6, "weight_decay": 5e-3}, "model", 204, 110,
         [(50, 0.01)], 80),
        ("amsgrad_stream", "amsgrad", {"lr": 0.01}, "stream", 211, 120, [(70, 0.002)], 40),
        ("amsgrad_wd_mlp", "amsgrad", {"lr": 0.05, "weight_decay": 1e-3}, "model", 212, 110, [(55, 0.01)], 65),
        ("adam_flag_amsgrad_stream", "adam", {"lr": 0.01, "amsgrad": True}, "stream", 213, 100, [(50, 0.002)], 60),
    ]
    adamw = [
        ("adamw_stream", "adamw", {"lr": 0.01, "weight_decay": 5e-2}, "stream", 301, 120, [(60, 0.001)], 50),
        ("adamw_mlp", "adamw", {"lr": 0.05, "weight_decay": 5e-2}, "model", 302, 110, [(40, 0.01)], 80),
        ("adamw_default_wd_amsgrad_stream", "adamw", {"lr": 0.01, "amsgrad": True}, "stream", 303, 100,
         [(50, 0.002)], 30),
    ]
    adagrad = [
        ("adagrad_stream", "adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1,
                                       "weight_decay": 1e-3}, "stream", 401, 120, [(60, 0.02)], 50),
        ("adagrad_mlp", "adagrad", {"lr": 0.2, "lr_decay": 0.01, "initial_accumulator_value": 0.1,
                                    "weight_decay": 1e-3}, "model", 402, 110, [(50, 0.05)], 75),
        ("adagrad_plain_stream", "adagrad", {"lr": 0.1}, "stream", 403, 100, [(40, 0.03)], 60),
    ]
    rmsprop = [
        ("rmsprop_plain_stream", "rmsprop", {"lr": 0.01}, "stream", 501, 120, [(60, 0.001)], 50),
        ("rmsprop_plain_mlp", "rmsprop", {"lr": 0.01}, "model", 502, 110, [(50, 0.002)], 70),
        ("rmsprop_centered_mlp", "rmsprop", {"lr": 0.01, "centered": True}, "model", 503, 110, [(60, 0.002)],
         35),
        ("rmsprop_centered_stream", "rmsprop", {"lr": 0.01, "alpha": 0.9, "centered": True}, "stream", 504,
         100, [(50, 0.002)], 70),
        ("rmsprop_momentum_stream", "rmsprop", {"lr": 0.005, "momentum": 0.9}, "stream", 505, 120,
         [(70, 0.001)], 40),
        ("rmsprop_centered_momentum_wd_stream", "rmsprop", {"lr": 0.005, "momentum": 0.9, "centered": True,
                                                            "weight_decay": 1e-2}, "stream", 506, 110,
         [(50, 0.001)], 80),
        ("rmsprop_centered_momentum_wd_mlp", "rmsprop", {"lr": 0.005, "momentum": 0.9, "centered": True,
                                                         "weight_decay": 1e-2}, "model", 507, 110,
         [(55, 0.001)], 30),
    ]
    adabound = [
        ("adabound_stream", "adabound", {"lr": 0.01, "final_lr": 0.1, "gamma": 1e-3}, "stream", 601, 120,
         [(60, 0.001)], 80, 10.0, 5.0),
        ("adabound_wd_mlp", "adabound", {"lr": 0.01, "final_lr": 0.1, "gamma": 1e-3, "weight_decay": 5e-4},
         "model", 602, 110, [(50, 0.001)], 75),
        ("amsbound_wd_stream", "amsbound", {"lr": 0.01, "final_lr": 0.1, "gamma": 1e-3, "weight_decay": 5e-4},
         "stream", 611, 120, [(50, 0.001)], 70, 10.0, 5.0),
        # A small lr: AMSBound's max keeps the early gradients in the denominator, so here the clip
        # works at the lower bound.
        ("amsbound_mlp", "amsbound", {"lr": 1e-3, "final_lr": 0.1, "gamma": 1e-3}, "model", 612, 110,
         [(60, 2e-4)], 40),
    ]
    # AdaBayes: batch_size 32 puts sigma^2 near the crossover between the SGD-like and Adam-like
    # regimes for these gradients; the lr changes move sigma^2 with them; weight decay large enough
    # to matter within 100 steps.
    adabayes = [
        ("adabayes_stream", "adabayes", {"lr": 1e-3, "sgd_lr": 0.1, "batch_size": 32, "weight_decay": 1e-3},
         "stream", 701, 120, [(60, 1e-4)], 50),
        ("adabayes_mlp", "adabayes", {"lr": 1e-2, "sgd_lr": 0.5, "batch_size": 8, "weight_decay": 5e-5,
                                      "beta1": 0.8}, "model", 702, 110, [(55, 2e-3)], 75),
        ("adabayes_fp_stream", "adabayes-fp", {"lr": 1e-3, "sgd_lr": 0.1, "batch_size": 32,
                                               "weight_decay": 1e-3}, "stream", 711, 120, [(60, 1e-4)], 50),
        ("adabayes_fp_mlp", "adabayes-fp", {"lr": 1e-2, "sgd_lr": 0.5, "batch_size": 8, "weight_decay": 5e-5,
                                            "beta2": 0.99}, "model", 712, 110, [(50, 2e-3)], 30),
    ]
    return sgd + adam + adamw + adagrad + rmsprop + adabound + adabayes


def main():
    torch.set_num_threads(1)
    out = {"generator": "scripts/make_fixtures.py", "torch_version": torch.__version__, "cases": []}
    for spec in cases():
        name, optimizer, options, kind, seed, steps = spec[:6]
        case, clip_log = make_case(*spec)
        note = ""
        if optimizer in ("adabound", "amsbound"):
            coverage = check_adabound_coverage(case, clip_log)
            scaling = check_final_lr_scaling_matters(case)
            note = " clip hits %s, without final_lr scaling the worst deviation would be %.3g" % (coverage, scaling)
        if kind == "model":
            note += " loss %.4f -> %.4f" % (case.pop("initial_loss"), case.pop("final_loss"))
        out["cases"].append(case)
        print("%-40s %-9s %-6s %d steps%s" % (name, optimizer, kind, steps, note))

    names = {c["name"] for c in out["cases"]}
    assert len(names) == len(out["cases"]), "case names must be unique"
    for optimizer in ("sgd", "adam", "amsgrad", "adamw", "adagrad", "rmsprop", "adabound", "amsbound",
                      "adabayes", "adabayes-fp"):
        kinds = {c["model"] is None for c in out["cases"] if c["optimizer"] == optimizer}
        assert kinds == {True, False}, optimizer + " needs a stream case and a model case"

    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    # One case per line; compact separators keep the file small. allow_nan=False: only finite numbers.
    header = {k: v for k, v in out.items() if k != "cases"}
    text = json.dumps(header, allow_nan=False)[:-1] + ', "cases": [\n'
    text += ",\n".join(json.dumps(c, separators=(",", ":"), allow_nan=False) for c in out["cases"])
    text += "\n]}\n"
    json.loads(text)  # well-formed
    with open(OUTPUT, "w") as f:
        f.write(text)
    print("wrote %s: %d cases, %d bytes" % (os.path.relpath(OUTPUT, ROOT), len(out["cases"]), len(text)))


if __name__ == "__main__":
    sys.exit(main())

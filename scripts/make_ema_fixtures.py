"""Writes tests/fixtures/ema.json: PyTorch's and timm's own weight EMAs on a
fixed float64 parameter stream, replayed by tests/test_ema.cpp (1e-12).

The stream: a tiny model with batchnorm (Linear 3->4, BatchNorm1d 4, tanh,
Linear 4->2) trained for a few steps of SGD with momentum on fixed random
batches; after each step its parameters and buffers (batchnorm's running
statistics and num_batches_tracked) are recorded, and each reference EMA is
updated and recorded:
  plain:  torch.optim.swa_utils.AveragedModel(model,
              multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=False)
  warmup: timm.utils.model_ema.ModelEmaV3(model, decay, use_warmup=True,
              exclude_buffers=True), update(model, step=n) with n counted
              from 1 as timm's train.py does
Both copy the weights at the first update (AveragedModel's n_averaged == 0;
timm's decay 0 at step 1), and copy the buffers at every update.

Run in the comparison environment (scripts/torch_env.sh installs torch and timm):
  .venv-compare/bin/python scripts/make_ema_fixtures.py
"""
import json
import os
import platform

import timm
import torch
from timm.utils.model_ema import ModelEmaV3
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

STEPS = 12


def make_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    ).double()


def tensors(module):
    """Parameters and buffers, in the module's order, as flat lists."""
    return {
        "parameters": [p.detach().reshape(-1).tolist() for p in module.parameters()],
        "buffers": [b.detach().reshape(-1).tolist() for b in module.buffers()],
    }


def stream():
    """The model's state before training and after each step."""
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
    generator = torch.Generator().manual_seed(1)
    yield model
    for _ in range(STEPS):
        x = torch.randn(8, 3, generator=generator, dtype=torch.float64)
        y = torch.randint(0, 2, (8,), generator=generator)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        yield model


def plain_case(decay):
    states, ema = [], None
    for step, model in enumerate(stream()):
        if step == 0:
            ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=False)
            continue
        ema.update_parameters(model)
        states.append(tensors(ema.module))
    return {
        "name": f"AveragedModel ema {decay}",
        "decay": decay,
        "warmup": False,
        "decays": [0.0] + [decay] * (STEPS - 1),
        "ema": states,
    }


def warmup_case(decay):
    states, decays, ema = [], [], None
    for step, model in enumerate(stream()):
        if step == 0:
            ema = ModelEmaV3(model, decay=decay, use_warmup=True, exclude_buffers=True)
            continue
        decays.append(ema.get_decay(step))
        ema.update(model, step=step)
        states.append(tensors(ema.module))
    return {
        "name": f"timm ModelEmaV3 {decay} warmup",
        "decay": decay,
        "warmup": True,
        "warmup_gamma": ema.warmup_gamma,
        "warmup_power": ema.warmup_power,
        "min_decay": ema.min_decay,
        "decays": decays,
        "ema": states,
    }


def main():
    torch.set_num_threads(1)
    models = [tensors(m) for m in stream()]
    shapes = make_model()
    fixture = {
        "generator": "scripts/make_ema_fixtures.py",
        "versions": {"torch": torch.__version__, "timm": timm.__version__, "python": platform.python_version()},
        "parameter_shapes": [list(p.shape) for p in shapes.parameters()],
        "buffer_shapes": [list(b.shape) for b in shapes.buffers()],
        "buffer_dtypes": [str(b.dtype).replace("torch.", "") for b in shapes.buffers()],
        "initial": models[0],
        "models": models[1:],  # after each step
        # 0.9 and 0.99: lerp's small-weight branch; 0.3: its other branch;
        # warmup to 0.5: the ceiling is reached within the steps, to 0.99 not.
        "cases": [plain_case(0.9), plain_case(0.3), warmup_case(0.99), warmup_case(0.5)],
    }
    out = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "ema.json")
    with open(out, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.normpath(out)}: {len(fixture['cases'])} cases of {STEPS} updates")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Checks Fluxion's ONNX exports against an independent runtime.

For each model: writes a state_dict with random weights (PyTorch's key names,
from tests/fixtures/layers/model_keys.json; small_cnn's in F16, so the F16
reader is on the way), exports it with `fluxion export --model NAME` (no run
record: the "any checkpoint" path), has Fluxion write its own logits for a
batch of real inputs (--reference-input/--reference-output), runs the ONNX
file in the runtime on the same inputs and compares:

    relative error = max |runtime - fluxion| / max |fluxion|   (over the batch's logits)

Inputs: the first Fashion-MNIST test images (Debian's dataset-fashion-mnist)
for small_cnn; CIFAR-10's first test images where --cifar-dir has
test_batch.bin, else deterministic random CIFAR-shaped images; normalised
with the datasets' mean and std as Fluxion does.

Runtimes: onnxruntime (the comparison environment, scripts/torch_env.sh) runs
the export with a dynamic batch; OpenCV's DNN module (Debian's python3-opencv)
a fixed one. `--runtime pytorch` checks the way in rather than out: PyTorch's
twin of each model (scripts/torch_models.py), initialised by PyTorch and
saved by it in F16 (small_cnn), BF16 (resnet20) or F32, loaded by Fluxion
through --model, against the twin's own logits. Needs numpy and the runtime only. Exit 0 when every model is
within --tolerance, 1 when one is not, 77 when the runtime is missing.

    .venv-compare/bin/python scripts/check_onnx.py --runtime onnxruntime --fluxion build/release/fluxion --work /tmp/x
    /usr/bin/python3 scripts/check_onnx.py --runtime opencv --fluxion build/release/fluxion --work /tmp/x
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    print("check_onnx.py: skipped: numpy is not installed for " + sys.executable)
    sys.exit(77)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ["small_cnn", "resnet20", "resnet18", "densenet121"]
# The registry's normalisation (data/datasets.cpp).
FASHION_MEAN, FASHION_STD = [0.2860], [0.3530]
CIFAR_MEAN, CIFAR_STD = [0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]
DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def write_safetensors(path, tensors):
    """The safetensors layout, written by hand: header length, JSON header,
    bytes. Each tensor is (dtype, numpy array), or (dtype, shape, raw bytes)."""
    header, blobs, offset = {}, [], 0
    for name, entry in tensors.items():
        if len(entry) == 3:
            dtype, shape, data = entry
        else:
            dtype, array = entry
            shape, data = array.shape, np.ascontiguousarray(array, dtype=DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    base = 8 + length
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        out[name] = np.frombuffer(raw[base + begin:base + end], dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
    return out


def random_state(model, rng, dtype):
    """Random weights of the model's PyTorch shapes: He-normal weights, and
    batchnorm statistics that keep activations of order one."""
    keys = json.load(open(os.path.join(ROOT, "tests", "fixtures", "layers", "model_keys.json")))
    entry = next(m for m in keys["models"] if m["name"] == model)
    state = {}
    for name, shape, kind in entry["state"]:
        shape = tuple(shape)
        if kind == "I64":
            state[name] = ("I64", np.zeros(shape, np.int64))
        elif name.endswith("running_var"):
            state[name] = (dtype, rng.uniform(0.5, 1.5, shape))
        elif name.endswith("running_mean"):
            state[name] = (dtype, rng.normal(0.0, 0.1, shape))
        elif len(shape) == 1 and name.endswith("weight"):  # batchnorm's scale
            state[name] = (dtype, rng.uniform(0.5, 1.5, shape))
        elif len(shape) == 1:  # biases
            state[name] = (dtype, rng.normal(0.0, 0.1, shape))
        else:
            fan_in = int(np.prod(shape[1:]))
            state[name] = (dtype, rng.normal(0.0, np.sqrt(2.0 / fan_in), shape))
    return state


def fashion_images(count):
    path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
    if not os.path.exists(path):
        return None, "deterministic random images (no " + path + ")"
    with gzip.open(path, "rb") as f:
        raw = f.read(16 + count * 28 * 28)
    pixels = np.frombuffer(raw[16:], np.uint8).reshape(count, 1, 28, 28).astype(np.float32) / 255.0
    return pixels, "the first %d Fashion-MNIST test images" % count


def cifar_images(count, cifar_dir):
    path = os.path.join(cifar_dir or "", "cifar-10-batches-bin", "test_batch.bin")
    if cifar_dir and os.path.exists(path):
        with open(path, "rb") as f:
            raw = np.frombuffer(f.read(count * 3073), np.uint8).reshape(count, 3073)
        return raw[:, 1:].reshape(count, 3, 32, 32).astype(np.float32) / 255.0, "the first %d CIFAR-10 test images" % count
    return None, "deterministic random CIFAR-shaped images (CIFAR-10 not found)"


def inputs_for(model, count, rng, cifar_dir):
    if model == "small_cnn":
        pixels, what = fashion_images(count)
        mean, std, shape = FASHION_MEAN, FASHION_STD, (count, 1, 28, 28)
    else:
        pixels, what = cifar_images(count, cifar_dir)
        mean, std, shape = CIFAR_MEAN, CIFAR_STD, (count, 3, 32, 32)
    if pixels is None:
        pixels = rng.uniform(0.0, 1.0, shape).astype(np.float32)
    mean = np.array(mean, np.float32).reshape(1, -1, 1, 1)
    std = np.array(std, np.float32).reshape(1, -1, 1, 1)
    return ((pixels - mean) / std).astype(np.float32), what


def torch_checkpoint(model, path, seed):
    """PyTorch's own twin of the model (scripts/torch_models.py), initialised
    by PyTorch, saved in half precision as PyTorch users do (small_cnn in F16,
    resnet20 in BF16, the others F32); returns the twin holding the saved
    values (widened back to float32), in eval mode, and the dtype written."""
    import torch
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from torch_models import make_model
    torch.manual_seed(seed)
    chw = (1, 28) if model == "small_cnn" else (3, 32)
    twin = make_model(model, 10, chw[0], chw[1])
    half = {"small_cnn": torch.float16, "resnet20": torch.bfloat16}.get(model, torch.float32)
    names = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.int64: "I64"}
    state, saved = {}, {}
    for key, value in twin.state_dict().items():
        value = value.detach().contiguous()
        if value.is_floating_point():
            value = value.to(half)
        raw = value.view(torch.int16) if value.dtype in (torch.float16, torch.bfloat16) else value
        state[key] = (names[value.dtype], tuple(value.shape), raw.numpy().tobytes())
        saved[key] = value.float() if value.is_floating_point() else value
    write_safetensors(path, state)
    twin.load_state_dict(saved, strict=True)
    return twin.eval(), names[half]


def runtime_runner(name):
    """A function (onnx_path, inputs) -> logits, the runtime's version, and
    whether it takes a dynamic batch; or None when it is missing."""
    if name == "onnxruntime":
        try:
            import onnxruntime as ort
        except ImportError:
            return None

        def run(path, x):
            options = ort.SessionOptions()
            options.intra_op_num_threads = 2
            session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            return session.run(["output"], {"input": x})[0]

        return run, "onnxruntime " + ort.__version__, True
    if name == "opencv":
        try:
            import cv2
        except ImportError:
            return None

        def run(path, x):
            net = cv2.dnn.readNetFromONNX(path)
            net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
            net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
            net.setInput(x)
            return net.forward()

        return run, "OpenCV DNN " + cv2.__version__, False
    if name == "pytorch":  # not ONNX: PyTorch's twin model, from the same half-precision file
        try:
            import torch
        except ImportError:
            return None
        return None, "PyTorch " + torch.__version__, True
    raise SystemExit("check_onnx.py: unknown runtime " + name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runtime", required=True, choices=["onnxruntime", "opencv", "pytorch"],
                        help="pytorch: no ONNX; Fluxion against PyTorch's twin model (scripts/torch_models.py), "
                             "both loading a state_dict that PyTorch initialised and saved in F16/BF16/F32")
    parser.add_argument("--fluxion", required=True, help="the fluxion command")
    parser.add_argument("--work", required=True, help="a folder for the checkpoints, exports and references")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--cifar-dir", default=os.environ.get("FLUXION_CIFAR_DIR", ""))
    parser.add_argument("--checkpoint", action="append", default=[], metavar="MODEL=FILE",
                        help="check MODEL with this checkpoint of fluxion train (its run record names the model) "
                             "instead of random weights")
    args = parser.parse_args()

    runner = runtime_runner(args.runtime)
    if runner is None:
        print("check_onnx.py: skipped: %s is not installed for %s" % (args.runtime, sys.executable))
        return 77
    run, version, dynamic = runner
    os.makedirs(args.work, exist_ok=True)
    trained = dict(item.split("=", 1) for item in args.checkpoint)
    failures = 0
    for index, model in enumerate(args.models.split(",")):
        rng = np.random.default_rng(20261207 + index)
        stem = os.path.join(args.work, model)
        if model in trained:
            checkpoint, weights_dtype, model_flags = trained[model], "trained", []
        elif args.runtime == "pytorch":
            checkpoint, model_flags = stem + ".safetensors", ["--model", model]
            twin, weights_dtype = torch_checkpoint(model, checkpoint, 20261207 + index)
            weights_dtype += " PyTorch-initialised"

            def run(path, x, twin=twin):
                import torch
                with torch.no_grad():
                    return twin(torch.from_numpy(x)).numpy()
        else:
            checkpoint, weights_dtype = stem + ".safetensors", "F16" if model == "small_cnn" else "F32"
            write_safetensors(checkpoint, random_state(model, rng, weights_dtype))
            weights_dtype += " random"
            model_flags = ["--model", model]
        x, what = inputs_for(model, args.batch, rng, args.cifar_dir)
        write_safetensors(stem + ".input.safetensors", {"input": ("F32", x)})
        command = [args.fluxion, "export", "--checkpoint", checkpoint] + model_flags + [
                   "--onnx", stem + ".onnx", "--batch", "dynamic" if dynamic else str(args.batch),
                   "--reference-input", stem + ".input.safetensors",
                   "--reference-output", stem + ".reference.safetensors"]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print("%s: %s: fluxion export failed (exit %d): %s" % (version, model, done.returncode,
                                                                    done.stderr.strip() or done.stdout.strip()))
            failures += 1
            continue
        reference = read_safetensors(stem + ".reference.safetensors")["output"].astype(np.float64)
        try:
            got = np.asarray(run(stem + ".onnx", x), np.float64)
        except Exception as e:  # a runtime's refusal is a finding, reported as such
            print("%s: %s: the runtime could not run the export: %s" % (version, model, str(e).strip()[:400]))
            failures += 1
            continue
        if got.shape != reference.shape:
            print("%s: %s: output shape %s, Fluxion's %s" % (version, model, got.shape, reference.shape))
            failures += 1
            continue
        error = float(np.max(np.abs(got - reference)) / np.max(np.abs(reference)))
        agree = float(np.mean(np.argmax(got, 1) == np.argmax(reference, 1)))
        ok = error <= args.tolerance
        failures += 0 if ok else 1
        print("%s: %-11s max |difference| / max |Fluxion logit| = %.2e (%s, tolerance %.0e), top-1 agrees on %d%%; "
              "%s, %s weights" % (version, model + ":", error, "ok" if ok else "FAILED", args.tolerance,
                                  round(100 * agree), what, weights_dtype))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

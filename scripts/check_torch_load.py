#!/usr/bin/python3
"""Loads a Fluxion-written ResNet-20 checkpoint into PyTorch with strict=True.

    /usr/bin/python3 scripts/check_torch_load.py DIR

DIR holds what tests/test_checkpoint_interop.cpp ("a Fluxion ResNet-20
checkpoint has the PyTorch layout") writes when FLUXION_INTEROP_DIR=DIR:
fluxion_resnet20.safetensors (the model's state_dict) and
fluxion_resnet20_eval.safetensors (an input and the eval-mode logits Fluxion
computed for it). The CTest entry checkpoint_interop_pytorch_strict_load runs
this after that case (tests/CMakeLists.txt).

Checks: every key, dtype and shape equals PyTorch's state_dict of
scripts/torch_models.py make_model("resnet20"); load_state_dict(strict=True)
succeeds and the loaded tensors equal the file's; the eval-mode logits PyTorch
computes equal Fluxion's within 1e-4 (|a - e| <= 1e-4 max(|e|, rms(e)), the
float32 criterion of tests/test_layer_parity.cpp).

Exit status: 0 on success, 1 on a mismatch, 77 (CTest's SKIP_RETURN_CODE)
when torch or numpy is not installed.
"""
import os
import sys

try:
    import numpy  # noqa: F401 (make_fixtures' reader needs it)
    import torch
except ImportError as e:
    print("SKIP: %s (this check needs Debian's python3-torch)" % e)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402
from make_fixtures import read_safetensors, scaled_error  # noqa: E402

TOLERANCE = 1e-4


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    directory = argv[1]
    state, metadata = read_safetensors(os.path.join(directory, "fluxion_resnet20.safetensors"))
    evaluation, _ = read_safetensors(os.path.join(directory, "fluxion_resnet20_eval.safetensors"))
    torch.set_num_threads(1)
    model = torch_models.make_model("resnet20", 10)
    reference = model.state_dict()
    problems = []
    for key in sorted(set(reference) | set(state)):
        if key not in state:
            problems.append("missing: " + key)
        elif key not in reference:
            problems.append("unexpected: " + key)
        elif state[key].dtype != reference[key].dtype or state[key].shape != reference[key].shape:
            problems.append("%s: %s %s in the file, PyTorch has %s %s" % (
                key, state[key].dtype, list(state[key].shape), reference[key].dtype, list(reference[key].shape)))
    if problems:
        print("FAIL: the Fluxion checkpoint does not match PyTorch's state_dict:\n  " + "\n  ".join(problems))
        return 1

    model.load_state_dict(state, strict=True)
    for key, value in model.state_dict().items():
        if not torch.equal(value, state[key]):
            print("FAIL: %s changed on loading" % key)
            return 1

    model.eval()
    with torch.no_grad():
        logits = model(evaluation["input"])
    error = scaled_error(logits, evaluation["logits"])
    print("loaded %d tensors with strict=True (metadata %s); eval logits %s, worst scaled error vs Fluxion %.3g"
          % (len(state), metadata, list(logits.shape), error))
    if not error <= TOLERANCE:
        print("FAIL: PyTorch's logits differ from Fluxion's by more than %g" % TOLERANCE)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

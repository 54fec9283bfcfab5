#!/usr/bin/env python3
"""Reads a `fluxion train` run folder with TensorBoard's own reader and checks
what the trainer's event files say against the run's other files.

    .venv-compare/bin/python scripts/check_tensorboard.py RUN_DIR [--expect-orphans]

With tensorboard.backend.event_processing.event_accumulator.EventAccumulator
(which checks every record's CRCs, and drops a killed run's events at and
after a SessionLog START's step, as TensorBoard does):
  - the scalar tags are exactly metrics.jsonl's keys but "epoch", each with
    one value per epoch of metrics.jsonl, at step = epoch, equal to the
    line's value rounded to float32 (TensorBoard's simple_value);
  - every parameter of the model (last.safetensors' "model." tensors but
    batchnorm's buffers) has "weights/NAME" and "gradients/NAME" histograms
    at every step, of as many values as the parameter has elements; the
    last step's weights histogram has the min, max and sum of the weights in
    last.safetensors; AdaBayes runs have "adabayes_log10_ratio/NAME" too
    (of the weights whose ratio is finite).
With --expect-orphans, the raw files (tensorboard's event_file_loader, no
purging) must hold some step twice: a resumed run after a kill that the
check above shows each step of once.
Exits 1 with a line per problem.
"""
import argparse
import json
import math
import os
import struct
import sys
from collections import Counter

from tensorboard.backend.event_processing import event_accumulator, event_file_loader

BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")
problems = []


def problem(text):
    problems.append(text)
    print("FAIL:", text)


def as_float32(value):
    return float("nan") if value is None else struct.unpack("<f", struct.pack("<f", value))[0]


def same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


def read_safetensors(path):
    """{name: (shape, [values])} of the float32 tensors under "model."."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if not name.startswith("model.") or entry["dtype"] != "F32":
            continue
        begin, end = entry["data_offsets"]
        tensors[name[len("model."):]] = (entry["shape"], struct.unpack("<%df" % ((end - begin) // 4), data[begin:end]))
    return tensors


def check_scalars(acc, metrics):
    keys = [k for k in metrics[0] if k != "epoch"]
    tags = set(acc.Tags()["scalars"])
    if tags != set(keys):
        problem("scalar tags %s, metrics.jsonl's columns %s" % (sorted(tags), sorted(keys)))
    epochs = [line["epoch"] for line in metrics]
    for key in keys:
        if key not in tags:
            continue
        events = acc.Scalars(key)
        steps = [e.step for e in events]
        if steps != epochs:
            problem("%s: steps %s, metrics.jsonl's epochs %s" % (key, steps, epochs))
            continue
        for e, line in zip(events, metrics):
            if not same(e.value, as_float32(line[key])):
                problem("%s at step %d: %r in the events, %r in metrics.jsonl" % (key, e.step, e.value, line[key]))
    print("scalars: %d tags x %d steps equal metrics.jsonl" % (len(keys), len(epochs)))


def check_histograms(acc, run_dir, epochs, adabayes):
    params = {n: t for n, t in read_safetensors(os.path.join(run_dir, "last.safetensors")).items()
              if not n.endswith(BUFFER_SUFFIXES)}
    tags = set(acc.Tags()["histograms"])
    kinds = ["weights", "gradients"] + (["adabayes_log10_ratio"] if adabayes else [])
    wanted = {"%s/%s" % (kind, name) for kind in kinds for name in params}
    if tags != wanted:
        problem("histogram tags: missing %s, unexpected %s" % (sorted(wanted - tags)[:5], sorted(tags - wanted)[:5]))
    for tag in sorted(wanted & tags):
        kind, name = tag.split("/", 1)
        events = acc.Histograms(tag)
        steps = [e.step for e in events]
        if steps != epochs:
            problem("%s: steps %s, epochs %s" % (tag, steps, epochs))
        shape, values = params[name]
        for e in events:
            h = e.histogram_value
            if kind == "adabayes_log10_ratio":  # some weights may have <g^2> = 0: left out
                if not 0 < h.num <= len(values):
                    problem("%s at step %d: %g values, expected 1 to %d" % (tag, e.step, h.num, len(values)))
            elif h.num != len(values):
                problem("%s at step %d: %g values, the parameter has %d" % (tag, e.step, h.num, len(values)))
            if sum(h.bucket) != h.num:
                problem("%s at step %d: the buckets count %g of %g values" % (tag, e.step, sum(h.bucket), h.num))
        if kind == "weights" and events:
            h = events[-1].histogram_value
            if h.min != min(values) or h.max != max(values) or not math.isclose(h.sum, math.fsum(values),
                                                                                rel_tol=1e-9, abs_tol=1e-9):
                problem("%s: the last step's min/max/sum %g/%g/%g, last.safetensors' %g/%g/%g"
                        % (tag, h.min, h.max, h.sum, min(values), max(values), math.fsum(values)))
    print("histograms: %d tags (%s) for %d parameters x %d steps" % (len(wanted), ", ".join(kinds), len(params),
                                                                      len(epochs)))


def raw_duplicate_steps(run_dir):
    counts = Counter()
    for name in sorted(os.listdir(run_dir)):
        if "tfevents" in name:
            # The legacy loader gives the events as written (the other
            # turns simple_value into tensors).
            for event in event_file_loader.LegacyEventFileLoader(os.path.join(run_dir, name)).Load():
                if event.HasField("summary") and any(v.tag == "train_loss" for v in event.summary.value):
                    counts[event.step] += 1
    return sorted(step for step, n in counts.items() if n > 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir")
    parser.add_argument("--expect-orphans", action="store_true")
    args = parser.parse_args()
    with open(os.path.join(args.run_dir, "metrics.jsonl")) as f:
        metrics = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(args.run_dir, "config.json")) as f:
        optimizer = json.load(f)["optimizer"]
    acc = event_accumulator.EventAccumulator(args.run_dir, size_guidance={
        event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0})
    acc.Reload()
    check_scalars(acc, metrics)
    check_histograms(acc, args.run_dir, [line["epoch"] for line in metrics], optimizer.startswith("adabayes"))
    duplicates = raw_duplicate_steps(args.run_dir)
    if args.expect_orphans and not duplicates:
        problem("--expect-orphans: no step is in the raw files twice (no killed run's events to hide)")
    if duplicates:
        print("steps %s are in the raw files twice; the reader sees each once (SessionLog START)" % duplicates)
    print("check_tensorboard.py: %s: %s" % (args.run_dir, "%d problems" % len(problems) if problems else "ok"))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

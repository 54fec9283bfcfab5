#!/usr/bin/python3
"""Turns Luo et al. (2019)'s pretrained CIFAR-10 learning curves into one CSV.

    /usr/bin/python3 scripts/luo_curves.py DIR [--out FILE]

Where the files come from: the AdaBound repository (Apache-2.0),
https://github.com/Luolc/AdaBound, folder demos/cifar10/curve/pretrained/
(commit 2e928c3007a2fc44af0e4c97e343e1fed6986e44). Get them with

    git clone https://github.com/Luolc/AdaBound
    /usr/bin/python3 scripts/luo_curves.py AdaBound/demos/cifar10/curve/pretrained \
        --out docs/data/luo2019-curves.csv

Each file was written by demos/cifar10/main.py (lines 222-223) as
torch.save({'train_acc': [...], 'test_acc': [...]}) with one entry per epoch
(200 epochs); accuracies are in percent (100. * correct / total, main.py
lines 144 and 166). The file name is main.py's get_ckpt_name (lines 64-74):
MODEL-OPTIMIZER-SETTINGS, e.g. resnet-adam-lr0.001-betas0.99-0.999 or
densenet-adabound-lr0.001-betas0.9-0.999-final_lr0.1-gamma0.001.

Output columns: model,optimizer,lr,epoch,train_acc,test_acc,source
(epoch counts from 1; source is the file name, which carries all settings).
Needs torch (Debian's python3-torch at /usr/bin/python3); the files use the
legacy pickle format, which torch.load still reads.
"""
import argparse
import csv
import os
import re
import sys

import torch


def parse_name(name):
    """'resnet-sgd-lr0.1-momentum0.9' -> ('resnet', 'sgd', '0.1')."""
    model, optimizer, settings = name.split("-", 2)
    m = re.match(r"lr([0-9.e+-]+?)(?:-|$)", settings)  # lr is always first
    if not m:
        raise ValueError("no lr in file name %r" % name)
    return model, optimizer, m.group(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", help="folder holding the curve files")
    ap.add_argument("--out", help="CSV path (default: stdout)")
    args = ap.parse_args()

    out = open(args.out, "w", newline="") if args.out else sys.stdout
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["model", "optimizer", "lr", "epoch", "train_acc", "test_acc", "source"])
    for name in sorted(os.listdir(args.dir)):
        if name.startswith("."):
            continue
        model, optimizer, lr = parse_name(name)
        curve = torch.load(os.path.join(args.dir, name), map_location="cpu")
        train, test = curve["train_acc"], curve["test_acc"]
        if len(train) != len(test):
            raise ValueError("%s: %d train vs %d test epochs" % (name, len(train), len(test)))
        for epoch, (tr, te) in enumerate(zip(train, test), start=1):
            w.writerow([model, optimizer, lr, epoch, "%.3f" % tr, "%.2f" % te, name])
    if args.out:
        out.close()


if __name__ == "__main__":
    main()

"""What training every net in a model cache would cost on this machine today: the cold part of a study's time.

A cold `make study` trains every net its notebooks ask for; the default profile's cache holds exactly those. This
reads each cached net's config, measures the training rate (img/s, batch 128) of each distinct architecture,
channel base and image side on this machine now (a few steps each), and prints the minutes per group and in all,
with the c = 16 (MNIST 16 px) rate beside them: these machines vary up to 2.5x in speed from day to day, so a time
is read with that rate. The rate does not depend on the training-set size or the dataset, only on the net and the
image side; evaluation (sampling, distillation, calibrations) is not counted.

    python bench/bench_study_cost.py                  # the project's cache (or $GENDIFF_CACHE)
    python bench/bench_study_cost.py --cache DIR --steps 20"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import torch

from gendiff.cache import cache_dir
from gendiff.study.plan import training_rate as rate


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=None, help="model cache folder (default: the project's cache)")
    ap.add_argument("--steps", type=int, default=20, help="timed training steps per net shape (>= 5)")
    a = ap.parse_args()
    if a.steps < 5:
        ap.error("--steps must be at least 5")
    root = a.cache or cache_dir()
    configs = []
    for p in sorted(root.glob("*/config.json")):
        try:
            configs.append(json.loads(p.read_text())["config"])
        except (json.JSONDecodeError, KeyError):
            raise SystemExit(f"{p}: not a model config; delete its folder or pass another --cache")
    if not configs:
        raise SystemExit(f"no cached nets under {root}")
    native = {"digits": 8, "mnist": 28}  # the side of a dataset kept at its native size (size: null)
    groups = defaultdict(lambda: [0, 0])  # (arch, channels, layers, side) -> [nets, images seen in training]
    for c in configs:
        g = groups[(c["arch"], c["channels"], c["layers_per_block"], c["size"] or native.get(c["dataset"], 32))]
        g[0] += 1
        g[1] += c["steps"] * c["batch_size"]
    print(f"{len(configs)} nets under {root}; {torch.get_num_threads()} threads")
    ref = rate("unet", 16, 1, 16, a.steps)
    print(f"c = 16 U-Net, 16 px: {ref:.0f} img/s now\n")
    print(f"{'net':>22s} {'nets':>5s} {'img/s':>7s} {'vs c=16':>8s} {'minutes':>8s}")
    total = 0.0
    for (arch, ch, layers, size), (n, images) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
        r = ref if (arch, ch, layers, size) == ("unet", 16, 1, 16) else rate(arch, ch, layers, size, a.steps)
        total += images / r / 60
        print(f"{f'{arch} c={ch} {size} px':>22s} {n:5d} {r:7.0f} {ref / r:7.2f}x {images / r / 60:8.1f}")
    print(f"\ncold training of all {len(configs)} nets: {total:.0f} min ({total / 60:.1f} h) at c = 16 {ref:.0f} img/s")


if __name__ == "__main__":
    main()

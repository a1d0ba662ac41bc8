"""The study's nets as one plan, trained one after another against on parallel workers, in one run.

Trains a subset of a profile's plan (default: notebook 05's nets at the default profile, one seed, fewer steps so
the run takes minutes) into a fresh temporary cache twice: sequentially in this process (all threads), then with
``gendiff train --workers N`` (N single-threaded Dask processes). Prints both wall times, their ratio, and the c = 16
(16 px) rate beside them, since these machines vary up to 2.5x in speed from day to day, and the largest weight
difference between the two runs' nets (one thread against several can sum in another order).

    python bench/bench_train_plan.py                      # 05, default profile, seeds [0], 150 steps, 2 workers
    python bench/bench_train_plan.py --steps 300 --workers 2 --notebooks 05 06"""
from __future__ import annotations

import argparse
import os
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notebooks", nargs="+", default=["05"])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--steps", type=int, default=150, help="training steps of every net (a subset's cost)")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    import torch
    from safetensors.torch import load_file

    from gendiff.cache import ModelStore
    from gendiff.study.plan import study_plan, train_plan, training_rate

    overrides = {"seeds": [0], "steps": a.steps}
    ref = training_rate("unet", 16, 1, 16)
    times, weights = {}, {}
    for mode in ("sequential", "workers"):
        with tempfile.TemporaryDirectory() as cache:
            os.environ["GENDIFF_CACHE"] = cache  # the workers are started from this process and inherit it
            t = time.perf_counter()
            train_plan(a.profile, a.notebooks, overrides=overrides,
                       workers=a.workers if mode == "workers" else None)
            times[mode] = time.perf_counter() - t
            plan = study_plan(a.profile, a.notebooks, overrides)
            weights[mode] = {pn.key: load_file(str(ModelStore(pn.cfg).dir / "model.safetensors")) for pn in plan}
    os.environ.pop("GENDIFF_CACHE")
    gap = max(float((w[k] - weights["workers"][key][k]).abs().max())
              for key, w in weights["sequential"].items() for k in w)
    n = len(weights["sequential"])
    print(f"{n} nets of {', '.join(a.notebooks)} ({a.profile}, seeds [0], {a.steps} steps), "
          f"{torch.get_num_threads()} threads; c = 16 at {ref:.0f} img/s just before")
    print(f"  one after another (1 process, {torch.get_num_threads()} threads): {times['sequential']:7.1f} s")
    print(f"  plan on {a.workers} single-threaded workers:              {times['workers']:7.1f} s")
    print(f"  speed-up of the plan on workers: {times['sequential'] / times['workers']:.2f}x; "
          f"largest weight difference between the two runs' nets: {gap:.1e}")


if __name__ == "__main__":
    main()

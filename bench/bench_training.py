"""Model-zoo benchmarks: training images/s per channel base, and closed-form vs Algorithm-1 distillation.

1. EDM training of the zoo's UNet2DModel (channels (c, 2c, 2c), 16x16 MNIST, batch 128) for c in 4..32.
2. Linear distillation of a known-linear teacher (D_G of the data, so the exact answer W_G is known): time to
   reach the same accuracy (weight NMSE to W_G) by the closed-form least-squares solve and by Algorithm 1 (Adam,
   batch 256, epochs until NMSE <= the target), on the same pool of (z, D(z)) pairs."""
from __future__ import annotations

import argparse
import time

import torch

from gendiff.data import load_mnist, subset
from gendiff.denoisers import GaussianDenoiser
from gendiff.distill import distill_adam, distill_lstsq, distill_pairs
from gendiff.metrics import weight_nmse
from gendiff.train import EDMTrainer
from gendiff.zoo import NetConfig, n_params


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--channels", type=int, nargs="+", default=[4, 8, 16, 32])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--sigma", type=float, default=1.5)
    ap.add_argument("--target", type=float, default=1e-2, help="NMSE both distillations must reach")
    a = ap.parse_args()
    y = subset(load_mnist(16), 1024)
    print(f"training on 16x16 MNIST, batch 128, {torch.get_num_threads()} threads")
    for c in a.channels:
        D = NetConfig(N=1024, channels=c).build((1, 16, 16))
        tr = EDMTrainer(D, y, seed=0)
        tr.run(3, progress=False)  # warm-up
        ips = tr.run(3 + a.steps, progress=False)
        print(f"  channels {c:3d}: {n_params(D):>9,} params  {ips:7.0f} img/s")
    G = GaussianDenoiser.from_data(y)
    W_G, _ = G.wiener(a.sigma)
    Z, Y = distill_pairs(G, y, a.sigma, 4096)
    t = time.perf_counter()
    W, _ = distill_lstsq(Z, Y)
    t_ls = time.perf_counter() - t
    nm_ls = weight_nmse(W, W_G)
    t = time.perf_counter()
    epochs, nm = 0, float("inf")
    while nm > max(a.target, nm_ls) and epochs < 400:
        epochs += 10
        Wa, _, h = distill_adam(Z, Y, lr=5e-3, epochs=epochs, W_ref=W_G)
        nm = h["nmse"][-1]
    t_adam_total = time.perf_counter() - t
    # time of the final successful run alone (the search above reruns from scratch)
    t = time.perf_counter()
    distill_adam(Z, Y, lr=5e-3, epochs=epochs, record_every=epochs)
    t_adam = time.perf_counter() - t
    print(f"distillation at sigma={a.sigma}, d=256, 4096 pairs, target NMSE {a.target:g}:")
    print(f"  closed form : {t_ls * 1e3:8.1f} ms  NMSE {nm_ls:.1e}")
    print(f"  Algorithm 1 : {t_adam * 1e3:8.1f} ms  NMSE {nm:.1e} after {epochs} epochs (search took {t_adam_total:.1f} s)")
    print(f"  speed-up of the closed form at equal (or better) accuracy: {t_adam / t_ls:.0f}x")


if __name__ == "__main__":
    main()

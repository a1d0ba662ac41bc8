"""Model-zoo benchmarks: training images/s per channel base, and closed-form vs Algorithm-1 distillation.

1. EDM training of the zoo's UNet2DModel (channels (c, 2c, 2c), 16x16 MNIST, batch 128) for c in 4..32, and for
   c = 16 and 32 the speed-ups on offer, each as a ratio to the plain fp32 run in the same process: bf16 autocast
   (NetConfig.precision = "bf16"; fast only on CPUs with AVX-512 bf16 or AMX, which lscpu lists), Adam's foreach
   and fused kernels, and channels-last memory. None is the default: a lower precision may become one only if the
   ledger's verdicts do not move.
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


def variant_rate(y, c: int, variant: str, steps: int) -> float:
    """img/s of the c U-Net's training in one variant: fp32 (as the study trains), bf16 autocast, Adam foreach or
    fused, or channels-last memory format."""
    D = NetConfig(N=1024, channels=c).build((1, 16, 16))
    tr = EDMTrainer(D, y, seed=0, precision="bf16" if variant == "bf16" else "fp32")
    if variant in ("foreach", "fused"):
        tr.opt = torch.optim.Adam(D.parameters(), lr=2e-3, **{variant: True})
        tr.sched = torch.optim.lr_scheduler.LambdaLR(tr.opt, lambda t: 1.0)
    if variant == "channels-last":
        D.to(memory_format=torch.channels_last)
        tr.y = tr.y.contiguous(memory_format=torch.channels_last)
    tr.run(3, progress=False)  # warm-up
    return tr.run(3 + steps, progress=False)


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
    for c in (16, 32):
        base = variant_rate(y, c, "fp32", a.steps)
        print(f"  c = {c}, ratio to fp32 ({base:.0f} img/s): " + ", ".join(
            f"{v} {variant_rate(y, c, v, a.steps) / base:.2f}x" for v in ("bf16", "foreach", "fused", "channels-last")))
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

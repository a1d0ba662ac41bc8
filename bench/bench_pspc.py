"""PSPC-Square speed: all crops at once (unfold + batched GEMM + streaming log-sum-exp) vs a straightforward loop over
crop positions, each a streaming posterior mean over 100-image chunks of the training set (the shape of the public
reference implementation), on identical inputs; outputs must agree to 1e-5. Also: gradient-sensitivity heatmap time
of a trained net (batched autograd, one Jacobian per input)."""
from __future__ import annotations

import argparse
import time

import torch

from gendiff.data import load_dataset
from gendiff.device import get_device
from gendiff.denoisers.patch import patch_posterior_loop, square_masks, square_patch_composite


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--N", type=int, default=5000, help="training images (MNIST 16x16)")
    ap.add_argument("--B", type=int, default=100, help="noisy inputs per call")
    ap.add_argument("--sizes", default="3,5,9")
    ap.add_argument("--sigma", type=float, default=1.0)
    ap.add_argument("--heatmaps", action="store_true", help="also time the sensitivity heatmaps of a cached net")
    ap.add_argument("--device", default=None, help="cpu, cuda, ... (default: gendiff.device.get_device())")
    a = ap.parse_args()
    dev = get_device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    torch.set_grad_enabled(False)
    y = load_dataset("mnist", size=16)[:a.N]
    g = torch.Generator().manual_seed(0)
    z = (y[:a.B] + a.sigma * torch.randn(y[:a.B].shape, generator=g)).to(dev)
    y = y.to(dev)
    sig = torch.full((a.B,), a.sigma, device=dev)
    print(f"PSPC-Square, MNIST 16x16, N={a.N}, B={a.B}, sigma={a.sigma}, {dev}, {torch.get_num_threads()} threads")
    ratios = []
    for s in (int(v) for v in a.sizes.split(",")):
        square_patch_composite(z, y, s, sig)  # warm-up
        sync()
        t = time.perf_counter()
        fast = square_patch_composite(z, y, s, sig)
        sync()
        t_fast = time.perf_counter() - t
        t = time.perf_counter()
        slow = patch_posterior_loop(z, y, square_masks(16, 16, s, every_position=True), sig, chunk=100)
        sync()
        t_slow = time.perf_counter() - t
        err = float((fast - slow).abs().max())
        ratios.append(t_slow / t_fast)
        print(f"  s={s:2d}: vectorized {1e3 * t_fast / a.B:7.2f} ms/image, per-crop loop {1e3 * t_slow / a.B:8.2f} ms/image,"
              f" speed-up {t_slow / t_fast:6.1f}x, max |diff| {err:.1e}")
        assert err < 1e-5, f"outputs differ by {err}"
    print(f"min speed-up {min(ratios):.1f}x (target >= 30x)")
    if a.heatmaps:
        from gendiff.cache import get_model
        from gendiff.locality import sensitivity_heatmaps
        from gendiff.zoo import NetConfig

        net, _ = get_model(NetConfig(N=1024), device=dev)
        n = 8
        t = time.perf_counter()
        sensitivity_heatmaps(net, y[:n], 1.0, generator=torch.Generator().manual_seed(0))
        sync()
        dt = time.perf_counter() - t
        print(f"heatmaps (UNet c=16, 16x16): {dt / n:.2f} s per input per sigma (256 Jacobian rows in one batch); "
              f"one net at 10 sigmas x {n} inputs: {10 * dt:.0f} s")
        zi = y[:1] + torch.randn(y[:1].shape, generator=torch.Generator().manual_seed(1)).to(dev)
        t = time.perf_counter()
        with torch.enable_grad():
            x = zi.clone().requires_grad_(True)
            out = net(x, 1.0).flatten()
            for k in range(out.numel()):  # the loop over output pixels that batching replaces
                torch.autograd.grad(out[k], x, retain_graph=True)
        t_loop = time.perf_counter() - t
        print(f"  one backward per output pixel: {t_loop:.2f} s per input ({t_loop / (dt / n):.1f}x slower)")


if __name__ == "__main__":
    main()

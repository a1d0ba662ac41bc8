"""PSPC-Square speed: all crops at once (unfold + batched GEMM + streaming log-sum-exp) vs a straightforward loop over
crop positions, each a streaming posterior mean over 100-image chunks of the training set (the shape of the public
reference implementation), on identical inputs; outputs must agree to 1e-5. Also prints the arithmetic floor: the time
this device needs for the arithmetic that both methods do -- every (crop, input, image) distance over s*s pixels, its
exponential, and the weighted sum of the patches -- timed as bare batched GEMMs and one exp at the same shapes.
loop time / floor bounds the speed-up an all-crops GEMM method can reach on this device. Also:
gradient-sensitivity heatmap time of a trained net (batched autograd, one Jacobian per input)."""
from __future__ import annotations

import argparse
import time

import torch

from gendiff.data import load_dataset
from gendiff.device import get_device
from gendiff.denoisers.patch import patch_posterior_loop, square_masks, square_patch_composite, square_patches


def arithmetic_floor(B: int, N: int, P: int, K: int, dev, sync, chunk: int = 500) -> float:
    """Seconds for the bare arithmetic of an exact all-crops patch composite: logits (P, B, N) as batched GEMMs over
    K = C s^2 pixels, their exponential, and the weighted patch sums (P, B, K), in training-set chunks (best of 3)."""
    zp = torch.randn(P, B, K, device=dev)
    yp = torch.randn(P, chunk, K, device=dev)
    best = float("inf")
    for _ in range(3):
        sync()
        t = time.perf_counter()
        for _ in range(0, N, chunk):
            w = torch.bmm(zp, yp.transpose(1, 2)).exp_()
            torch.bmm(w, yp)
        sync()
        best = min(best, time.perf_counter() - t)
    return best


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
    ratios, ceilings = [], []
    C, H, W = y.shape[1:]
    for s in (int(v) for v in a.sizes.split(",")):
        square_patch_composite(z, y, s, sig)  # warm-up
        sync()
        t = time.perf_counter()
        patches = square_patches(y, s)  # once per training set and size (PSPCSquare keeps them)
        sync()
        t_prep = time.perf_counter() - t
        t = time.perf_counter()
        fast = square_patch_composite(z, y, s, sig, patches=patches)
        sync()
        t_fast = time.perf_counter() - t
        t = time.perf_counter()
        square_patch_composite(z, y, s, sig)
        sync()
        t_cold = time.perf_counter() - t
        t = time.perf_counter()
        slow = patch_posterior_loop(z, y, square_masks(H, W, s, every_position=True), sig, chunk=100)
        sync()
        t_slow = time.perf_counter() - t
        err = float((fast - slow).abs().max())
        ratios.append(t_slow / t_fast)
        print(f"  s={s:2d}: vectorized {1e3 * t_fast / a.B:6.2f} ms/image (patches made once in {1e3 * t_prep:.0f} ms;"
              f" {1e3 * t_cold / a.B:.2f} ms/image when made in the call), per-crop loop {1e3 * t_slow / a.B:6.2f}"
              f" ms/image: speed-up {t_slow / t_fast:5.1f}x ({t_slow / t_cold:.1f}x), max |diff| {err:.1e}")
        assert err < 1e-5, f"outputs differ by {err}"
        P, K = (H - s + 1) * (W - s + 1), C * s * s
        floor = arithmetic_floor(a.B, a.N, P, K, dev, sync)
        ceilings.append(t_slow / floor)
        print(f"        bare GEMM + exp arithmetic {1e3 * floor / a.B:.2f} ms/image ({4 * P * a.B * a.N * K / floor / 1e9:.0f}"
              f" GFLOP/s): an all-crops GEMM method gains at most {t_slow / floor:.1f}x over the loop here")
    print(f"min speed-up {min(ratios):.1f}x (target >= 30x); ceiling on this device {min(ceilings):.1f}x")
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

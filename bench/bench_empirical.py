"""Empirical-optimal denoiser (Li et al. 2024, eq. 5) throughput vs this machine's float32 GEMM rate.

FLOP count per call with B queries, N training images of d pixels: 2 B N d for the logits x Y^T plus 2 B N d for
the weighted sum softmax(.) Y, i.e. 4 B N d (the exp and the running max/sum are O(B N), ignored). The GEMM
reference is the best rate of plain float32 matmuls of the same two shapes."""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from gendiff.denoisers import EmpiricalDenoiser
from gendiff.device import get_device


def timeit(fn, repeat: int, sync) -> float:
    fn()
    sync()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        sync()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--N", type=int, default=5000)
    ap.add_argument("--d", type=int, default=784)
    ap.add_argument("--B", type=int, default=256)
    ap.add_argument("--chunk", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--device", default=None)
    a = ap.parse_args()
    dev = get_device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    g = torch.Generator().manual_seed(0)
    Y = (torch.rand(a.N, a.d, generator=g) * 2 - 1).to(dev)
    X = (torch.rand(a.B, a.d, generator=g) * 2 - 1).to(dev)
    P = torch.rand(a.B, a.N, generator=g).to(dev)
    flops = 4 * a.B * a.N * a.d
    t_gemm = timeit(lambda: (X @ Y.T, P @ Y), a.repeat, sync)
    gemm_rate = flops / t_gemm
    D = EmpiricalDenoiser(Y, chunk_size=a.chunk).to(dev)
    t_d = timeit(lambda: D(X, 0.5), a.repeat, sync)
    rate = flops / t_d
    print(f"device {dev}, threads {torch.get_num_threads()}; B={a.B} queries, N={a.N}, d={a.d}, chunk={a.chunk}")
    print(f"FLOPs per call: 4 B N d = {flops / 1e9:.2f} GFLOP")
    print(f"float32 GEMM (same shapes): {t_gemm * 1e3:7.1f} ms  {gemm_rate / 1e9:7.1f} GFLOP/s")
    print(f"EmpiricalDenoiser:          {t_d * 1e3:7.1f} ms  {rate / 1e9:7.1f} GFLOP/s  "
          f"({a.B / t_d:.0f} queries/s)")
    print(f"ratio to GEMM rate: {rate / gemm_rate:.2f}")


if __name__ == "__main__":
    main()

"""A GPU check anyone with a CUDA GPU can run in a few minutes (``make gpu-check``): the library's two hot paths on the
GPU against this machine's CPU, in the same run, printed as ratios, and the GPU's results checked against the CPU's.

1. EDM training of the zoo's c = 16 U-Net (16x16 MNIST, batch 128): images/s on each device, and the ratio.
2. PSPC-Square (s = 5, N = 5000, 100 inputs): inputs/s on each device, the ratio, and the largest difference of the
   two outputs (float32 arithmetic, so agreement to about 1e-4).

Without CUDA it says so and exits 0, so it can sit in any checklist. The notebooks still pin their nets to the CPU
(issue 27, item 1); once they follow ``gendiff.device.get_device()``, the smoke profile of every notebook belongs here.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch


def train_rate(dev: torch.device, y: torch.Tensor, steps: int) -> float:
    from gendiff.train import EDMTrainer
    from gendiff.zoo import NetConfig

    D = NetConfig(N=y.shape[0], channels=16).build((1, 16, 16)).to(dev)
    tr = EDMTrainer(D, y.to(dev), seed=0)
    tr.run(3, progress=False)  # warm-up (cuDNN autotuning, allocator)
    return tr.run(3 + steps, progress=False)


def pspc_rate(dev: torch.device, y: torch.Tensor, z: torch.Tensor, reps: int = 3):
    from gendiff.denoisers.patch import square_patch_composite

    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    y, z = y.to(dev), z.to(dev)
    sig = torch.full((z.shape[0],), 1.0, device=dev)
    with torch.no_grad():
        out = square_patch_composite(z, y, 5, sig)  # warm-up
        sync()
        t = time.perf_counter()
        for _ in range(reps):
            out = square_patch_composite(z, y, 5, sig)
        sync()
    return reps * z.shape[0] / (time.perf_counter() - t), out.cpu()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=30, help="timed training steps per device")
    a = ap.parse_args()
    if not torch.cuda.is_available():
        print("gpu-check: no CUDA device here (torch.cuda.is_available() is False); skipped")
        return 0
    from gendiff.data import load_mnist, subset

    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    print(f"gpu-check: {torch.cuda.get_device_name(0)} against the CPU ({torch.get_num_threads()} threads)")
    y = subset(load_mnist(16), 1024)
    r_cpu, r_gpu = train_rate(cpu, y, a.steps), train_rate(gpu, y, a.steps)
    print(f"  training, c = 16: CPU {r_cpu:8.0f} img/s   GPU {r_gpu:8.0f} img/s   GPU/CPU {r_gpu / r_cpu:6.1f}x")
    ys = load_mnist(16)
    z = ys[:100] + torch.randn(ys[:100].shape, generator=torch.Generator().manual_seed(0))
    (p_cpu, o_cpu), (p_gpu, o_gpu) = pspc_rate(cpu, ys, z), pspc_rate(gpu, ys, z)
    diff = float((o_cpu - o_gpu).abs().max())
    print(f"  PSPC-Square s = 5: CPU {p_cpu:8.1f} in/s    GPU {p_gpu:8.1f} in/s    GPU/CPU {p_gpu / p_cpu:6.1f}x   "
          f"max |CPU - GPU| = {diff:.1e}")
    if not diff < 1e-3:
        print("gpu-check: FAILED: the GPU's PSPC differs from the CPU's", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Content-addressed store of trained nets: each NetConfig is trained once and reused by every notebook.

Layout: <cache>/<key>/config.json, model.safetensors (final EMA weights), snapshots/step_<n>.safetensors and,
while training, checkpoint.pt (resumable state). Every file is written to a temporary name and renamed, and
each weights file's sha256 is recorded in manifest.json, so an interrupted run never leaves a file that looks
complete, and a truncated or altered file is detected on load."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from ._checks import GendiffError
from .study.io import atomic_write, atomic_write_text, project_root
from .train import TRAIN_CODE_VERSION, EDMTrainer
from .zoo import NetConfig


def cache_dir() -> Path:
    """$GENDIFF_CACHE or <root>/cache."""
    return Path(os.environ["GENDIFF_CACHE"]).resolve() if os.environ.get("GENDIFF_CACHE") else project_root() / "cache"


def config_key(cfg: NetConfig) -> str:
    """sha256 of the config and the training code version (16 hex digits)."""
    blob = json.dumps({"config": cfg.to_dict(), "train_code_version": TRAIN_CODE_VERSION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class ModelStore:
    """The folder of one config."""

    def __init__(self, cfg: NetConfig, root: Path | None = None):
        self.cfg = cfg
        self.key = config_key(cfg)
        self.dir = (root or cache_dir()) / self.key

    @property
    def manifest_path(self) -> Path:
        return self.dir / "manifest.json"

    def manifest(self) -> dict:
        return read_json(self.manifest_path, f"delete the folder {self.dir} to retrain") \
            if self.manifest_path.exists() else {}

    def lock(self):
        """A file lock for this entry (shared across processes on one filesystem; re-entrant in a process): one
        process trains or computes while the others wait, then load what it stored."""
        return entry_lock(self.dir.parent / f".{self.key}.lock")

    def _record(self, name: str, path: Path) -> None:
        m = self.manifest()
        m[name] = _sha256(path)
        atomic_write_text(self.manifest_path, json.dumps(m, indent=1))

    def save_weights(self, module: torch.nn.Module, name: str, meta: dict | None = None) -> Path:
        from safetensors.torch import save_file

        path = self.dir / name
        sd = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
        atomic_write(path, lambda tmp: save_file(sd, tmp, metadata={k: str(v) for k, v in (meta or {}).items()}))
        self._record(name, path)
        return path

    def load_weights(self, module: torch.nn.Module, name: str) -> torch.nn.Module:
        from safetensors.torch import load_file

        path = self.dir / name
        want = self.manifest().get(name)
        if not path.exists() or want is None:
            raise GendiffError(f"no stored weights {name!r} for config {self.key} in {self.dir}")
        if _sha256(path) != want:
            raise GendiffError(f"{path} is truncated or corrupt (sha256 mismatch); delete it to retrain")
        module.load_state_dict(load_file(str(path), device=str(next(module.parameters()).device)))
        return module

    def has(self, name: str) -> bool:
        return name in self.manifest() and (self.dir / name).exists()

    def save_checkpoint(self, trainer: EDMTrainer) -> None:
        path = self.dir / "checkpoint.pt"
        atomic_write(path, lambda tmp: torch.save(trainer.state_dict(), tmp))
        self._record("checkpoint.pt", path)

    def load_checkpoint(self, trainer: EDMTrainer) -> bool:
        """Resume from the last complete checkpoint; False if there is none. The checkpoint is renamed into place
        before its manifest entry is written, so a kill between the two leaves a complete file whose hash the
        manifest does not know yet: such a file is verified by loading it (torch checks its archive) and used. A
        file that does not load raises."""
        path = self.dir / "checkpoint.pt"
        if not path.exists():
            return False
        known = _sha256(path) == self.manifest().get("checkpoint.pt")
        try:
            state = torch.load(path, map_location=trainer.device, weights_only=False)
        except Exception as e:  # a truncated or altered archive
            raise GendiffError(f"{path} is truncated or corrupt ({type(e).__name__}); delete it to restart training "
                               "from step 0") from None
        trainer.load_state_dict(state)
        if not known:
            self._record("checkpoint.pt", path)
        return True


def get_model(cfg: NetConfig, *, device=None, progress: bool = True, checkpoint_every: int = 200,
              snapshot: int | None = None, root: Path | None = None):
    """The trained EMA denoiser of ``cfg`` (eval mode): loaded from the cache, or trained (resuming from the last
    checkpoint) and stored. ``snapshot=n`` returns the EMA weights at step n (one of cfg.snapshots).
    Returns (denoiser, info) with info = config, key, losses, img_per_s, trained (bool)."""
    from .device import get_device

    device = torch.device(device) if device is not None else get_device()
    store = ModelStore(cfg, root)
    if snapshot is not None and snapshot not in cfg.snapshots:
        raise GendiffError(f"snapshot={snapshot} is not one of the config's snapshots {cfg.snapshots}")
    final = "model.safetensors" if snapshot is None else f"snapshots/step_{snapshot:07d}.safetensors"
    y = None
    if not store.has("model.safetensors"):
        with store.lock():  # one process trains; the others wait here, then find the weights stored
            if not store.has("model.safetensors"):
                y = cfg.training_set()
                _train(cfg, store, y, device, progress, checkpoint_every)
    info = read_json(store.dir / "info.json", f"delete the folder {store.dir} to retrain")
    shape = tuple(info["shape"])
    D = cfg.build(shape).to(device)
    store.load_weights(D, final)
    D.eval().requires_grad_(False)
    info["trained"] = y is not None
    return D, info


def _train(cfg, store, y, device, progress, checkpoint_every):
    store.dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(store.dir / "config.json", json.dumps(
        {"config": cfg.to_dict(), "train_code_version": TRAIN_CODE_VERSION}, indent=1))
    D = cfg.build(tuple(y.shape[1:])).to(device)
    tr = EDMTrainer(D, y, batch_size=cfg.batch_size, lr=cfg.lr, warmup=cfg.warmup, grad_clip=cfg.grad_clip,
                    ema_decay=cfg.ema_decay, P_mean=cfg.P_mean, P_std=cfg.P_std, seed=cfg.seed)
    resumed = store.load_checkpoint(tr)

    def on_step(t: EDMTrainer):
        if t.step_count in cfg.snapshots:
            store.save_weights(t.ema, f"snapshots/step_{t.step_count:07d}.safetensors", {"step": t.step_count})
        if t.step_count % checkpoint_every == 0 and t.step_count < cfg.steps:
            store.save_checkpoint(t)

    ips = tr.run(cfg.steps, callback=on_step, progress=progress,
                 desc=f"{cfg.arch} c={cfg.channels} N={cfg.N}" + (" (resumed)" if resumed else ""))
    atomic_write_text(store.dir / "info.json", json.dumps(
        {"key": store.key, "shape": list(y.shape[1:]), "losses": tr.losses, "img_per_s": ips,
         "resumed_from": resumed}, indent=0))
    store.save_weights(tr.ema, "model.safetensors", {"steps": cfg.steps})
    (store.dir / "checkpoint.pt").unlink(missing_ok=True)


def digest(*parts) -> str:
    """A short sha256 of tensors (shape, dtype and bytes) and JSON-able values, in order: the key of an input set
    in ``derived`` params (a float sum would let two different inputs share a key)."""
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, torch.Tensor):
            t = p.detach().cpu().contiguous()
            h.update(f"{tuple(t.shape)}{t.dtype}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        else:
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def source_digest(*modules) -> str:
    """A short sha256 of the source files of ``modules`` (a package counts with all its .py files): put it in the
    params of a derived result, and editing the code that computes it computes it anew."""
    h = hashlib.sha256()
    for m in modules:
        f = Path(m.__file__)
        for q in (sorted(f.parent.glob("*.py")) if f.name == "__init__.py" else [f]):
            h.update(q.name.encode() + q.read_bytes())
    return h.hexdigest()[:16]


def derived(cfg: NetConfig, name: str, params: dict, compute, *, root: Path | None = None):
    """A result computed from the net of ``cfg`` (heatmaps, calibrated schedules), cached next to its weights under
    derived/<name>_<sha256 of params>.pt and checked against the manifest like the weights: compute() runs once
    per (config, name, params); the same call later loads it."""
    store = ModelStore(cfg, root)
    tag = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:12]
    rel = f"derived/{name}_{tag}.pt"
    path = store.dir / rel
    with store.lock():  # one process computes; the others wait and load
        if store.has(rel):
            if _sha256(path) != store.manifest()[rel]:
                raise GendiffError(f"{path} is truncated or corrupt (sha256 mismatch); delete it to recompute")
            return torch.load(path, weights_only=False)
        value = compute()
        atomic_write(path, lambda tmp: torch.save(value, tmp))
        store._record(rel, path)
    return value


def net_samples(cfg: NetConfig, net, x_T: torch.Tensor, *, num_steps: int = 18, snapshot=None) -> torch.Tensor:
    """The net's samples from the noise x_T (EDM Heun sampler, ``num_steps``, clamped to [-1, 1]), stored with the
    net of ``cfg`` (``snapshot``: which of its weights ``net`` is) and keyed by x_T and the source of the sampler:
    notebooks 03-07 and 12 sample the same cached nets from the same noise."""
    from . import edm, nets, sampling

    params = dict(x_T=digest(x_T), num_steps=num_steps, snapshot=snapshot, code=source_digest(sampling, edm, nets))
    return derived(cfg, "samples-net", params,
                   lambda: sampling.edm_sampler(net, x_T, num_steps=num_steps).clamp(-1, 1))


_LOCKS: dict = {}


def entry_lock(path: Path):
    """The process's one FileLock object per lock file (so nested use in one process is re-entrant)."""
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    return _LOCKS.setdefault(str(path), FileLock(str(path), mode=0o664))


def read_json(path: Path, advice: str) -> dict:
    """A JSON file of the cache; a truncated or altered one is named, with what to do."""
    try:
        return json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise GendiffError(f"{path} is truncated or corrupt (not valid JSON); {advice}") from None

"""Content-addressed store of trained nets: each NetConfig is trained once and reused by every notebook.

Layout: <cache>/<key>/config.json, info.json, model.safetensors (final EMA weights), snapshots/step_<n>.safetensors,
derived/ (results computed from the net) and, while training, checkpoints/step_<n>.pt (resumable state; the newest
two). Every file is written to a temporary name, its sha256 entered in manifest.json, then renamed into place, so an
interrupted run never leaves a file that looks complete, and a truncated, altered or unrecorded file is refused on
load (a bad checkpoint is set aside, and training resumes from an older one or from step 0)."""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import torch

from ._checks import GendiffError, GendiffWarning
from .files import atomic_write, atomic_write_text, project_root
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

    KEEP_CHECKPOINTS = 2  # the newest verified checkpoints kept while training (a bad newest falls back one)

    def __init__(self, cfg: NetConfig, root: Path | None = None):
        self.cfg = cfg
        self.key = config_key(cfg)
        self.dir = (root or cache_dir()) / self.key

    @property
    def manifest_path(self) -> Path:
        return self.dir / "manifest.json"

    @property
    def retrain_advice(self) -> str:
        return f"delete the folder {self.dir} to retrain this net"

    def manifest(self) -> dict:
        return read_json(self.manifest_path, self.retrain_advice) if self.manifest_path.exists() else {}

    def lock(self, what: str = "this net"):
        """A file lock for this entry (shared across processes on one filesystem; re-entrant in a process): one
        process trains or computes while the others wait, then load what it stored. A read-only cache cannot be
        locked (nor written): that is one error naming the cache and what it lacks."""
        folder = self.dir.parent
        if folder.exists() and not os.access(folder, os.W_OK):
            raise GendiffError(f"the model cache {folder} is read-only and lacks {what} of net {self.key}: compute it "
                               "in a writable cache first (GENDIFF_CACHE names the cache folder)")
        return entry_lock(folder / f".{self.key}.lock")

    def _record_hash(self, name: str, sha: str | None) -> None:
        m = self.manifest()
        if sha is None:
            m.pop(name, None)
        else:
            m[name] = sha
        atomic_write_text(self.manifest_path, json.dumps(m, indent=1))

    def _write(self, name: str, write) -> Path:
        """Write-then-rename ``name`` with its sha256 entered in the manifest *before* the rename: a kill before the
        rename leaves the old file with a hash that no longer matches (refused), a kill after it a file that
        matches. A file on disk is never trusted without its recorded hash."""
        def write_and_record(tmp):
            write(tmp)
            self._record_hash(name, _sha256(Path(tmp)))
        return atomic_write(self.dir / name, write_and_record)

    def verified(self, name: str) -> bool:
        """The file exists and its sha256 is the one the manifest recorded."""
        want = self.manifest().get(name)
        return want is not None and (self.dir / name).is_file() and _sha256(self.dir / name) == want

    def save_weights(self, module: torch.nn.Module, name: str, meta: dict | None = None) -> Path:
        from safetensors.torch import save_file

        check_finite(module, f"{name} of net {self.key}")
        sd = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
        return self._write(name, lambda tmp: save_file(sd, tmp, metadata={k: str(v) for k, v in (meta or {}).items()}))

    def load_weights(self, module: torch.nn.Module, name: str) -> torch.nn.Module:
        from safetensors.torch import load_file

        path = self.dir / name
        if not path.exists() or self.manifest().get(name) is None:
            raise GendiffError(f"no stored weights {name!r} for config {self.key} in {self.dir}; {self.retrain_advice}")
        if not self.verified(name):
            raise GendiffError(f"{path} is truncated or corrupt (sha256 mismatch); {self.retrain_advice}")
        module.load_state_dict(load_file(str(path), device=str(next(module.parameters()).device)))
        return module

    def has(self, name: str) -> bool:
        return name in self.manifest() and (self.dir / name).exists()

    def save_info(self, info: dict) -> None:
        self._write("info.json", lambda tmp: Path(tmp).write_text(json.dumps(info, indent=0)))

    def read_info(self) -> dict:
        """info.json, checked against its recorded sha256 (caches written before the hash was recorded have none)."""
        path = self.dir / "info.json"
        if "info.json" in self.manifest() and path.exists() and not self.verified("info.json"):
            raise GendiffError(f"{path} is truncated or corrupt (sha256 mismatch); {self.retrain_advice}")
        return read_json(path, self.retrain_advice)

    # ---------------------------------------------------------------------------------------- checkpoints
    def checkpoints(self) -> list[str]:
        """Checkpoint files on disk, newest first (checkpoints/step_<n>.pt; a legacy checkpoint.pt last)."""
        names = sorted((f"checkpoints/{p.name}" for p in (self.dir / "checkpoints").glob("step_*.pt")), reverse=True)
        return names + (["checkpoint.pt"] if (self.dir / "checkpoint.pt").exists() else [])

    def _discard(self, name: str) -> None:
        (self.dir / name).unlink(missing_ok=True)
        if name in self.manifest():
            self._record_hash(name, None)

    def save_checkpoint(self, trainer: EDMTrainer) -> None:
        """A new checkpoint file per step; the older ones beyond the newest KEEP_CHECKPOINTS are removed."""
        check_finite(trainer.D, f"the checkpoint at step {trainer.step_count} of net {self.key}")
        state = trainer.state_dict()
        self._write(f"checkpoints/step_{trainer.step_count:07d}.pt", lambda tmp: torch.save(state, tmp))
        for old in self.checkpoints()[self.KEEP_CHECKPOINTS:]:
            self._discard(old)

    def load_checkpoint(self, trainer: EDMTrainer) -> bool:
        """Resume from the newest checkpoint whose sha256 the manifest recorded; False if there is none. A checkpoint
        that fails its hash (altered, bit-flipped, truncated, or never recorded) or does not load is set aside with a
        warning, and the next older one is tried; with none left, training restarts from step 0, saying so."""
        for name in self.checkpoints():
            path = self.dir / name
            why = None if self.verified(name) else "its sha256 does not match the manifest"
            if why is None:
                try:
                    state = torch.load(path, map_location=trainer.device, weights_only=False)
                    trainer.load_state_dict(state)
                    return True
                except Exception as e:  # an archive torch cannot read, or a state of another shape
                    why = f"it does not load ({type(e).__name__})"
            warnings.warn(f"{path} is not a valid checkpoint ({why}): set aside; resuming from an older one or from "
                          "step 0", GendiffWarning, stacklevel=2)
            self._discard(name)
        return False

    def clear_checkpoints(self) -> None:
        for name in self.checkpoints():
            self._discard(name)


def check_finite(module: torch.nn.Module, what: str) -> None:
    """Refuse to store weights that are NaN or infinite (a diverged training)."""
    bad = [k for k, v in module.state_dict().items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise GendiffError(f"{what} has non-finite weights ({bad[0]}{' and others' if len(bad) > 1 else ''}): the "
                           "training diverged; lower lr. Nothing was stored")


def get_model(cfg: NetConfig, *, device=None, progress: bool = True, checkpoint_every: int = 200,
              snapshot: int | None = None, root: Path | None = None):
    """The trained EMA denoiser of ``cfg`` (eval mode): loaded from the cache, or trained (resuming from the last
    verified checkpoint) and stored. ``snapshot=n`` returns the EMA weights at step n (one of cfg.snapshots). A
    config with ``pretrained`` loads that net instead (``gendiff.pretrained``), with no training.
    Returns (denoiser, info) with info = config, key, losses, img_per_s, trained (bool)."""
    from .device import get_device

    device = torch.device(device) if device is not None else get_device()
    store = ModelStore(cfg, root)
    if cfg.pretrained is not None:  # a published net in place of training; derived results still go to its folder
        from .pretrained import load_pretrained

        if snapshot is not None:
            raise GendiffError(f"snapshot={snapshot}: a pretrained net has no training snapshots")
        D = load_pretrained(cfg.pretrained, cfg.pretrained_kind, device=device)
        return D, {"key": store.key, "config": cfg.to_dict(), "trained": False, "pretrained": cfg.pretrained}
    if snapshot is not None and snapshot not in cfg.snapshots:
        raise GendiffError(f"snapshot={snapshot} is not one of the config's snapshots {cfg.snapshots}")
    final = "model.safetensors" if snapshot is None else f"snapshots/step_{snapshot:07d}.safetensors"
    y = None
    if not store.has("model.safetensors"):
        with store.lock("the trained weights"):  # one process trains; the others wait, then find the weights
            if not store.has("model.safetensors"):
                y = cfg.training_set()
                _train(cfg, store, y, device, progress, checkpoint_every)
    info = store.read_info()
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
                    ema_decay=cfg.ema_decay, P_mean=cfg.P_mean, P_std=cfg.P_std, seed=cfg.seed,
                    precision=cfg.precision)
    resumed = store.load_checkpoint(tr)
    name = f"{cfg.arch} c={cfg.channels} N={cfg.N} seed={cfg.seed} ({store.key})"

    def on_step(t: EDMTrainer):
        if t.step_count in cfg.snapshots:
            store.save_weights(t.ema, f"snapshots/step_{t.step_count:07d}.safetensors", {"step": t.step_count})
        if t.step_count % checkpoint_every == 0 and t.step_count < cfg.steps:
            store.save_checkpoint(t)

    ips = tr.run(cfg.steps, callback=on_step, progress=progress, desc=name + (" (resumed)" if resumed else ""))
    check_finite(tr.ema, f"the final weights of net {name}")
    store.save_info({"key": store.key, "shape": list(y.shape[1:]), "losses": tr.losses, "img_per_s": ips,
                     "resumed_from": resumed})
    store.save_weights(tr.ema, "model.safetensors", {"steps": cfg.steps})
    store.clear_checkpoints()


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

    def load():
        if not store.verified(rel):
            raise GendiffError(f"{path} is truncated or corrupt (sha256 mismatch); delete it to recompute")
        return torch.load(path, weights_only=False)

    if store.has(rel):  # reading takes no lock, so a read-only shared cache serves what it holds
        return load()
    with store.lock(f"the result {name!r}"):  # one process computes; the others wait and load
        if store.has(rel):
            return load()
        value = compute()
        store._write(rel, lambda tmp: torch.save(value, tmp))
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

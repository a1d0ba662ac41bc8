"""The faults of the 103-probe run (bad inputs, corrupt files, interrupted or failed work), each injected here: every
one must end in one clear error before any work, or be handled and said, never in a silent wrong."""
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gendiff import GendiffError
from gendiff._checks import GendiffWarning
from gendiff.cache import ModelStore, derived, get_model
from gendiff.study import Claims, above, below
from gendiff.study import runner
from gendiff.study.claims import load_results
from gendiff.study.ledger import ledger_table
from gendiff.study.params import validate
from gendiff.train import EDMTrainer
from gendiff.zoo import NetConfig

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(N=32, dataset="digits", size=8, channels=4, steps=30, batch_size=16)


def _same(a, b) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def _killed_at(cfg, root, monkeypatch, step=25):
    """Train ``cfg`` under ``root`` until ``step``, then die (checkpoints every 10 steps)."""
    orig = EDMTrainer.step

    def dying(self):
        if self.step_count == step:
            raise KeyboardInterrupt
        return orig(self)

    monkeypatch.setattr(EDMTrainer, "step", dying)
    with pytest.raises(KeyboardInterrupt):
        get_model(cfg, progress=False, checkpoint_every=10, root=root, device="cpu")
    monkeypatch.setattr(EDMTrainer, "step", orig)
    return ModelStore(cfg, root)


def _flip(path: Path, at: int = -200):
    b = bytearray(path.read_bytes())
    b[at] ^= 0x01
    path.write_bytes(bytes(b))


# ----------------------------------------------------------------------------------------------- checkpoints
def test_a_bit_flipped_checkpoint_is_set_aside_and_the_previous_good_one_used(tmp_path, monkeypatch):
    cfg = NetConfig(**TINY)
    ref, _ = get_model(cfg, progress=False, checkpoint_every=10, root=tmp_path / "a", device="cpu")
    store = _killed_at(cfg, tmp_path / "b", monkeypatch)
    assert store.checkpoints() == ["checkpoints/step_0000020.pt", "checkpoints/step_0000010.pt"]
    _flip(store.dir / "checkpoints/step_0000020.pt")
    steps, orig = [], EDMTrainer.step
    monkeypatch.setattr(EDMTrainer, "step", lambda self: (steps.append(self.step_count), orig(self))[1])
    with pytest.warns(GendiffWarning, match=r"step_0000020.pt is not a valid checkpoint \(its sha256"):
        res, info = get_model(cfg, progress=False, checkpoint_every=10, root=tmp_path / "b", device="cpu")
    assert steps[0] == 10 and info["resumed_from"] is True  # the previous good checkpoint, not the flipped one
    assert _same(ref, res)  # and the net equals the uninterrupted one
    assert "checkpoints/step_0000020.pt" not in store.manifest() and not store.checkpoints()


def test_with_every_checkpoint_bad_training_restarts_from_step_0_and_says_so(tmp_path, monkeypatch):
    cfg = NetConfig(**TINY)
    ref, _ = get_model(cfg, progress=False, checkpoint_every=10, root=tmp_path / "a", device="cpu")
    store = _killed_at(cfg, tmp_path / "b", monkeypatch)
    for name in store.checkpoints():
        _flip(store.dir / name)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res, info = get_model(cfg, progress=False, checkpoint_every=10, root=tmp_path / "b", device="cpu")
    assert sum("not a valid checkpoint" in str(x.message) for x in w) == 2
    assert info["resumed_from"] is False and _same(ref, res)


def test_a_checkpoint_killed_before_its_rename_is_never_trusted(tmp_path, monkeypatch):
    """The hash is recorded before the rename: a kill in between leaves no file for that step (the previous one is
    used), and a file that appears without its hash is refused."""
    cfg = NetConfig(**TINY)
    ref, _ = get_model(cfg, progress=False, checkpoint_every=10, root=tmp_path / "a", device="cpu")
    orig_replace = os.replace

    def kill_on_second_checkpoint(src, dst):
        if str(dst).endswith("step_0000020.pt"):
            raise KeyboardInterrupt
        return orig_replace(src, dst)

    monkeypatch.setattr(os, "replace", kill_on_second_checkpoint)
    with pytest.raises(KeyboardInterrupt):
        get_model(cfg, progress=False, checkpoint_every=10, root=tmp_path / "b", device="cpu")
    monkeypatch.setattr(os, "replace", orig_replace)
    store = ModelStore(cfg, tmp_path / "b")
    assert store.checkpoints() == ["checkpoints/step_0000010.pt"]
    # a stray file with no recorded hash (copied in, or renamed by a process that died before its manifest entry)
    stray = store.dir / "checkpoints/step_0000015.pt"
    stray.write_bytes((store.dir / "checkpoints/step_0000010.pt").read_bytes())
    m = store.manifest()
    m.pop("checkpoints/step_0000015.pt", None)
    store.manifest_path.write_text(json.dumps(m))
    with pytest.warns(GendiffWarning, match="step_0000015.pt is not a valid checkpoint"):
        res, _ = get_model(cfg, progress=False, checkpoint_every=10, root=tmp_path / "b", device="cpu")
    assert _same(ref, res)


# ----------------------------------------------------------------------------------------------- divergence
def test_diverged_training_stops_with_one_error_and_caches_nothing_final(tmp_path):
    with pytest.raises(GendiffError, match="lr must be finite"):
        NetConfig(**TINY, lr=float("inf"))
    with pytest.raises(GendiffError, match="lr must be > 0"):
        NetConfig(**TINY, lr=0.0)
    cfg = NetConfig(**{**TINY, "steps": 60}, lr=1e3)
    with pytest.raises(GendiffError, match=r"training of unet c=4 N=32 seed=0 .* diverged (at step \d+: the loss|.*non-finite)"):
        get_model(cfg, progress=False, checkpoint_every=10, root=tmp_path, device="cpu")
    store = ModelStore(cfg, tmp_path)
    assert not store.has("model.safetensors") and not (store.dir / "info.json").exists()


def test_non_finite_weights_are_never_stored(tmp_path):
    cfg = NetConfig(**TINY)
    D = cfg.build((1, 8, 8))
    with torch.no_grad():
        next(D.parameters())[0].fill_(float("nan"))
    with pytest.raises(GendiffError, match="non-finite weights.*Nothing was stored"):
        ModelStore(cfg, tmp_path).save_weights(D, "model.safetensors")
    assert not ModelStore(cfg, tmp_path).has("model.safetensors")


# ----------------------------------------------------------------------------------------------- cache files
def test_info_json_is_checked_by_hash(tmp_path):
    cfg = NetConfig(**TINY)
    get_model(cfg, progress=False, root=tmp_path, device="cpu")
    p = ModelStore(cfg, tmp_path).dir / "info.json"
    info = json.loads(p.read_text())
    info["img_per_s"] = 1.0  # still valid JSON, but not what was written
    p.write_text(json.dumps(info))
    with pytest.raises(GendiffError, match="info.json is truncated or corrupt \\(sha256 mismatch\\); delete the folder"):
        get_model(cfg, progress=False, root=tmp_path, device="cpu")


def test_a_corrupt_snapshot_names_the_way_out_and_the_way_works(tmp_path):
    cfg = NetConfig(**TINY, snapshots=(10,))
    ref, _ = get_model(cfg, snapshot=10, progress=False, root=tmp_path, device="cpu")
    store = ModelStore(cfg, tmp_path)
    _flip(store.dir / "snapshots/step_0000010.safetensors")
    with pytest.raises(GendiffError, match="delete the folder (.*) to retrain this net") as e:
        get_model(cfg, snapshot=10, progress=False, root=tmp_path, device="cpu")
    import re
    import shutil

    shutil.rmtree(re.search(r"delete the folder (\S+) to retrain", str(e.value))[1])  # following the advice
    again, info = get_model(cfg, snapshot=10, progress=False, root=tmp_path, device="cpu")
    assert info["trained"] and _same(ref, again)


def test_a_read_only_cache_serves_what_it_holds_and_names_what_it_lacks(tmp_path, monkeypatch):
    import gendiff.cache as gc

    cfg = NetConfig(N=8, dataset="digits", size=8)
    v = derived(cfg, "thing", {"p": 1}, lambda: {"x": torch.arange(3)}, root=tmp_path)

    def no_lock(path):  # reading must not create a lock file (a read-only folder refuses it)
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(gc, "entry_lock", no_lock)
    assert torch.equal(derived(cfg, "thing", {"p": 1}, lambda: 1 / 0, root=tmp_path)["x"], v["x"])
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real_access(p, mode))
    with pytest.raises(GendiffError, match=r"model cache .* is read-only and lacks the result 'thing'"):
        derived(cfg, "thing", {"p": 2}, lambda: 1, root=tmp_path)


# ----------------------------------------------------------------------------------------------- inputs
def test_float64_input_to_a_trained_net_is_handled(tmp_path):
    D, _ = get_model(NetConfig(**TINY), progress=False, root=tmp_path, device="cpu")
    x = torch.randn(3, 1, 8, 8)
    out = D(x.double(), 0.5)
    assert out.dtype == torch.float64 and torch.allclose(out.float(), D(x, 0.5), atol=1e-5)


def test_nan_inputs_to_analytic_denoisers_are_refused():
    from gendiff.denoisers import EmpiricalDenoiser, GaussianDenoiser

    y = torch.randn(20, 6)
    x = torch.randn(4, 6)
    x[1, 2] = float("nan")
    for D in (EmpiricalDenoiser(y), GaussianDenoiser.from_data(y)):
        with pytest.raises(GendiffError, match="x holds 1 NaN or infinite value"):
            D(x, 0.5)


def _images(folder: Path, mode: str, n: int, side: int, start: int = 0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(start)
    for i in range(n):
        shape = (side, side) if mode == "L" else (side, side, 3)
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode=mode).save(folder / f"im{start + i:03d}.png")


def test_image_folders_keep_their_channel_count(tmp_path):
    from gendiff.data import load_dataset, load_folder

    _images(tmp_path / "gray", "L", 3, 8)
    assert load_folder(tmp_path / "gray").shape == (3, 1, 8, 8)  # not three copies of one channel
    assert load_dataset("folder", data_path=tmp_path / "gray", size=8).shape == (3, 1, 8, 8)
    _images(tmp_path / "rgb", "RGB", 2, 8)
    assert load_folder(tmp_path / "rgb").shape == (2, 3, 8, 8)
    _images(tmp_path / "gray", "RGB", 1, 8, start=10)  # now mixed
    with pytest.raises(GendiffError, match="mixes grayscale images .* and colour images .*pass channels=1 or channels=3"):
        load_folder(tmp_path / "gray")
    assert load_folder(tmp_path / "gray", channels=3).shape == (4, 3, 8, 8)
    assert load_folder(tmp_path / "gray", channels=1).shape == (4, 1, 8, 8)
    Image.fromarray(np.zeros((6, 8), np.uint8)).save(tmp_path / "wide.png")  # 8 wide, 6 high
    (tmp_path / "wide").mkdir()
    (tmp_path / "wide.png").rename(tmp_path / "wide" / "a.png")
    with pytest.raises(GendiffError, match="are 8x6, not square; pass size="):
        load_folder(tmp_path / "wide")
    assert load_folder(tmp_path / "wide", size=8).shape == (1, 1, 8, 8)


# ----------------------------------------------------------------------------------------------- results
def test_a_failed_rerun_keeps_the_last_good_results_and_the_ledger_says_so(tmp_path):
    nb = "01_linear_theory"
    good = Claims(nb, "smoke", tmp_path)
    good.declare("000-a", "a", source="t", tests={"x": above(0)})
    good.record("000-a", "x = 1", x=1.0)
    good.finish()
    rerun = Claims(nb, "smoke", tmp_path)  # a rerun that fails after declaring
    rerun.declare("000-a", "a", source="t", tests={"x": above(0)})
    got = load_results(tmp_path)[nb]
    assert got["recorded"]["000-a"]["verdict"] == "holds" and "failed or is unfinished" in got["rerun"]
    row = ledger_table(tmp_path, notebooks=[nb]).set_index("id").loc["000-a"]
    assert row.verdict == "holds" and row.ours.startswith("(last good run shown; a later run")
    rerun.record("000-a", "x = 2", x=2.0)
    rerun.finish()  # a rerun that finishes replaces them, and the note goes
    got = load_results(tmp_path)[nb]
    assert "rerun" not in got and got["recorded"]["000-a"]["ours"] == "x = 2"
    assert not list(tmp_path.glob("*.partial"))


def test_a_first_run_that_fails_shows_its_rows_as_not_recorded(tmp_path):
    c = Claims("01_linear_theory", "smoke", tmp_path)
    c.declare("000-a", "a", source="t", tests={"x": below(1)})
    got = load_results(tmp_path)["01_linear_theory"]
    assert got["unfinished"] is True
    assert ledger_table(tmp_path, notebooks=["01_linear_theory"]).set_index("id").loc["000-a", "verdict"] == \
        "not recorded"


# ----------------------------------------------------------------------------------------------- before any work
def test_bad_image_sides_and_folders_stop_before_any_work(tmp_path):
    with pytest.raises(GendiffError, match="size must be an image side >= 8 and a multiple of 4"):
        NetConfig(N=8, dataset="digits", size=10)
    NetConfig(N=8, dataset="digits", size=10, arch="mlp")  # an MLP takes any side
    d5 = runner.notebook_parameters(runner.read_notebook("05_dataset_size"))
    smoke = runner.load_profile("smoke", "05_dataset_size")
    v = lambda p: validate("05_dataset_size", d5, {**smoke, **p})  # noqa: E731
    with pytest.raises(GendiffError, match="'size' .* must be a multiple of 4, got 10"):
        v({"size": 10})
    with pytest.raises(GendiffError, match="'size' .* must be >= 8, got 4"):
        v({"size": 4})
    _images(tmp_path / "tiny", "L", 300, 6)
    with pytest.raises(GendiffError, match="'size' of notebook 05_dataset_size is null, so 'folder' keeps its native "
                                           "side, which must be an image side >= 8"):
        v({"dataset": "folder", "data_path": str(tmp_path / "tiny"), "size": None})
    _images(tmp_path / "mixed", "L", 300, 8)
    _images(tmp_path / "mixed", "L", 1, 12, start=500)
    with pytest.raises(GendiffError, match="different sizes .*pass size="):
        v({"dataset": "folder", "data_path": str(tmp_path / "mixed"), "size": None})
    _images(tmp_path / "corrupt", "L", 300, 8)
    (tmp_path / "corrupt" / "im007.png").write_bytes((tmp_path / "corrupt" / "im007.png").read_bytes()[:60])
    with pytest.raises(GendiffError, match="im007.png' is not a readable image"):
        v({"dataset": "folder", "data_path": str(tmp_path / "corrupt"), "size": 8})


def test_results_dir_is_not_a_set_parameter():
    with pytest.raises(GendiffError, match="'results_dir' is set by --results"):
        runner.prepare(["01_linear_theory"], "smoke", {"results_dir": "/tmp/elsewhere"})


@pytest.mark.parametrize("args, msg", [
    (["run", "-p", "smoke", "01", "--results", "{file}/sub"], "--results: cannot write to the folder"),
    (["run", "-p", "smoke", "01", "--out", "{file}/sub"], "--out: cannot write to the folder"),
    (["run", "-p", "smoke", "01", "--set", "results_dir=/tmp/x"], "'results_dir' is set by --results"),
    (["run", "-p", "smoke", "05", "--set", "size=10"], "must be a multiple of 4"),
    (["run", "-p", "smoke", "05", "--set", "dataset=folder", "--set", "data_path={gray}",
      "--set", "size=null"], "native side"),
    (["sweep", "01", "-p", "smoke", "--grid", "d=16", "--set", "results_dir=x"], "'results_dir' is set by --results"),
    (["run", "-p", "smoke", "01", "--env", "GENDIFF_DEVICE=cuda"], "CUDA is not available on this machine"),
])
def test_cli_probes_end_in_one_line_before_any_work(tmp_path, args, msg):
    (tmp_path / "file").write_text("a file, not a folder")
    _images(tmp_path / "gray", "L", 300, 6)
    args = [a.format(file=tmp_path / "file", gray=tmp_path / "gray") for a in args]
    env = {**os.environ, "GENDIFF_CACHE": str(tmp_path / "cache")}
    if "--env" in args:  # a variable of the run's environment, not an argument
        k, v = args.pop(args.index("--env") + 1).split("=")
        args.remove("--env")
        if k == "GENDIFF_DEVICE" and torch.cuda.is_available():  # pragma: no cover  (CI has no GPU)
            return
        env[k] = v
    r = subprocess.run([sys.executable, "-m", "gendiff", *args], capture_output=True, text=True, cwd=ROOT, env=env)
    assert r.returncode == 2 and msg in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "cache").exists()


def test_a_read_only_cache_serves_its_classifier(tmp_path, monkeypatch):
    import gendiff.cache as gc
    from gendiff.classifier import ClassifierConfig, get_classifier

    cfg = ClassifierConfig(dataset="digits", size=8, n_train=200, n_val=100, epochs=1)
    get_classifier(cfg, root=tmp_path)
    monkeypatch.setattr(gc, "entry_lock", lambda path: (_ for _ in ()).throw(PermissionError(13, "read-only")))
    assert get_classifier(cfg, root=tmp_path)[1]["trained"] is False


def test_ctrl_c_in_the_command_line_is_one_line(monkeypatch, capsys):
    from gendiff.study import cli

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run", interrupted)
    assert cli.main(["run", "-p", "smoke", "01"]) == 130
    err = capsys.readouterr().err
    assert err.startswith("interrupted:") and len(err.strip().splitlines()) == 1

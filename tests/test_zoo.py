import dataclasses

import pytest
import torch

from gendiff import GendiffError
from gendiff.cache import ModelStore, config_key, get_model
from gendiff.data import empirical_moments
from gendiff.denoisers import EmpiricalDenoiser, GaussianDenoiser
from gendiff.distill import distill, distill_adam, distill_pairs
from gendiff.metrics import (generalization_score, linearity_score, singular_vector_alignment, weight_nmse)
from gendiff.train import EDMTrainer
from gendiff.zoo import NetConfig, UNetF, build_unet, load_unet_denoiser

TINY = dict(N=32, dataset="digits", size=8, channels=4, steps=30, batch_size=16)


@pytest.fixture
def y():
    g = torch.Generator().manual_seed(0)
    return (torch.randn(200, 1, 4, 4, generator=g) * torch.linspace(0.1, 1, 16).reshape(1, 1, 4, 4) + 0.2)


def test_linearity_score_exact_for_linear_maps(y):
    class Lin(torch.nn.Module):
        def forward(self, x, s):
            return 0.3 * x / (1 + s)

    assert linearity_score(Lin(), y[:50], y[50:100], 1.0) == pytest.approx(1.0, abs=1e-12)
    assert linearity_score(Lin(), y[:50], y[50:100], 1.0, kind="nmse") == pytest.approx(0.0, abs=1e-6)

    class Shift(torch.nn.Module):  # D(x) = x + c: the combination misses (1 - a - b) c
        def forward(self, x, s):
            return x + 1.0

    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    a = b = 0.5**0.5
    x1, x2 = y[:50], y[50:100]
    z1 = x1 + 1.0 * torch.randn(x1.shape, generator=g())
    z2 = x2 + 1.0 * torch.randn(x2.shape, generator=(gg := g(), torch.randn(x1.shape, generator=gg))[0])
    rhs = (a * (z1 + 1) + b * (z2 + 1)).flatten(1)
    want = float(((1 - a - b) * torch.ones_like(rhs)).norm(dim=1).div(rhs.norm(dim=1)).mean())
    got = linearity_score(Shift(), x1, x2, 1.0, a=a, kind="nmse", generator=g())
    assert got == pytest.approx(want, rel=1e-5)  # normalised by ||a D(z1) + b D(z2)||, as the authors do
    G = GaussianDenoiser.from_data(y)
    for a in (0.99**0.5, 0.5**0.5):
        assert linearity_score(G, y[:50], y[50:100], 0.5, a=a, center=G.mu.float()) == pytest.approx(1.0, abs=1e-9)
    M = EmpiricalDenoiser(y)
    assert linearity_score(M, y[:50], y[50:100], 0.5, center=G.mu.float()) < 0.99
    with pytest.raises(GendiffError, match="a\\^2 \\+ b\\^2 = 1"):
        linearity_score(G, y[:5], y[5:10], 1.0, a=0.5, b=0.5)


def test_distillation_recovers_gaussian_denoiser(y):
    G = GaussianDenoiser.from_data(y)
    L = distill(G, y, [0.3, 3.0], n_pairs=3000)
    for k, s in enumerate((0.3, 3.0)):
        W, b = G.wiener(s)
        assert weight_nmse(L.W[k], W) < 1e-6  # float32 pairs; unsquared
        assert torch.allclose(L.b[k], b, atol=1e-6)
    Z, Y = distill_pairs(G, y, 0.3, 3000)
    W, _ = G.wiener(0.3)
    _, _, h = distill_adam(Z, Y, lr=2e-2, epochs=60, W_ref=W)
    assert h["nmse"][-1] < 0.03 < 0.5 < h["nmse"][0]


def test_weight_nmse_is_unsquared_and_its_noise_floor_matches_least_squares_theory():
    from gendiff.distill import distill_lstsq
    from gendiff.metrics import nmse_noise_floor

    assert weight_nmse(2 * torch.eye(4), torch.eye(4)) == pytest.approx(1.0)  # ||I|| / ||I||: squared would be 1 too
    assert weight_nmse(1.5 * torch.eye(4), torch.eye(4)) == pytest.approx(0.5)  # squared would give 0.25
    # a noisy linear teacher y = W* z + b* + s e: least squares has E||W_hat - W*||_F^2 = d s^2 tr((Zc^T Zc)^-1)
    g = torch.Generator().manual_seed(0)
    d, n, s = 16, 400, 0.5
    W_star = torch.randn(d, d, generator=g, dtype=torch.float64) / d**0.5
    scales = torch.linspace(0.2, 2.0, d, dtype=torch.float64)
    Z = torch.randn(n, d, generator=g, dtype=torch.float64) * scales
    fits = [distill_lstsq(Z, Z @ W_star.T + 0.1 + s * torch.randn(n, d, generator=g, dtype=torch.float64))[0]
            for _ in range(2)]  # the same inputs, independent teacher noise
    Zc = Z - Z.mean(0)
    predicted = (d * s**2 * torch.trace(torch.linalg.inv(Zc.T @ Zc))).sqrt() / torch.linalg.matrix_norm(W_star)
    floor = nmse_noise_floor(*fits, W_star)
    assert floor == pytest.approx(float(predicted), rel=0.2)
    assert weight_nmse(fits[0], W_star) == pytest.approx(float(predicted), rel=0.2)


def test_adam_distillation_scales_queries_like_the_authors_model():
    d = 64
    g = torch.Generator().manual_seed(0)
    Z = torch.randn(256, d, generator=g, dtype=torch.float64)
    W, _, _ = distill_adam(Z, Z.clone(), lr=1e-2, epochs=1, batch_size=256)  # one Adam step from W = 0
    # Adam's first step moves every parameter by lr; the parameters are sqrt(d) W, so W moves by lr / sqrt(d)
    assert float(W.abs().max()) == pytest.approx(1e-2 / d**0.5, rel=1e-3)


def test_alignment_and_gl(y):
    mu0, S0 = empirical_moments(y)
    G = GaussianDenoiser(mu0, S0)
    W, _ = G.wiener(1.0)
    C = singular_vector_alignment(W, G.U, k=5)
    assert torch.allclose(C, torch.eye(5, dtype=torch.float64), atol=1e-6)
    # a rank-r reference: restricted to its r directions, the reference itself aligns perfectly and a rotation does
    # not; over k > r the null-space columns are an arbitrary basis and even the reference looks misaligned
    few = y[:6]  # rank(Sigma0) = 5
    Gr = GaussianDenoiser.from_data(few)
    Wr, _ = Gr.wiener(0.3)
    r = 5
    assert float(singular_vector_alignment(Wr, Gr.U, k=10, rank=r).diagonal().mean()) == pytest.approx(1.0, abs=1e-6)
    assert float(singular_vector_alignment(Wr, Gr.U, k=10).diagonal().mean()) < 0.9
    Q, _ = torch.linalg.qr(torch.eye(16, dtype=torch.float64) + 0.5 * torch.randn(16, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    assert float(singular_vector_alignment(Q @ Wr @ Q.T, Gr.U, k=10, rank=r).diagonal().mean()) < 0.8
    assert generalization_score(y[:10], y) == pytest.approx(0.0, abs=1e-6)
    assert generalization_score(y[:10] * 3, y) > 0.1


def test_training_loss_decreases():
    cfg = NetConfig(**{**TINY, "steps": 150})
    ys = cfg.training_set()
    tr = EDMTrainer(cfg.build(tuple(ys.shape[1:])), ys, batch_size=32, lr=2e-3, warmup=10, seed=0)
    tr.run(150, progress=False)
    first, last = sum(tr.losses[:30]) / 30, sum(tr.losses[-30:]) / 30
    assert last < 0.7 * first


def test_killed_then_resumed_equals_uninterrupted(tmp_path, monkeypatch):
    cfg = NetConfig(**TINY, snapshots=(10,))
    ref, _ = get_model(cfg, progress=False, checkpoint_every=10, root=tmp_path / "a", device="cpu")
    orig = EDMTrainer.step

    def dying(self):
        if self.step_count == 25:
            raise KeyboardInterrupt
        return orig(self)

    monkeypatch.setattr(EDMTrainer, "step", dying)
    with pytest.raises(KeyboardInterrupt):
        get_model(cfg, progress=False, checkpoint_every=10, root=tmp_path / "b", device="cpu")
    store = ModelStore(cfg, tmp_path / "b")
    assert store.checkpoints() == ["checkpoints/step_0000020.pt", "checkpoints/step_0000010.pt"]
    assert not store.has("model.safetensors")
    assert not list(store.dir.rglob("*.tmp"))
    monkeypatch.setattr(EDMTrainer, "step", orig)
    res, info = get_model(cfg, progress=False, checkpoint_every=10, root=tmp_path / "b", device="cpu")
    assert info["resumed_from"] is True
    for (k, p), q in zip(ref.state_dict().items(), res.state_dict().values()):
        assert torch.equal(p, q), k
    s_ref, _ = get_model(cfg, snapshot=10, progress=False, root=tmp_path / "a", device="cpu")
    s_res, _ = get_model(cfg, snapshot=10, progress=False, root=tmp_path / "b", device="cpu")
    assert all(torch.equal(p, q) for p, q in zip(s_ref.state_dict().values(), s_res.state_dict().values()))


def test_cache_reuses_and_separates(tmp_path):
    cfg = NetConfig(**TINY)
    a, ia = get_model(cfg, progress=False, root=tmp_path, device="cpu")
    b, ib = get_model(cfg, progress=False, root=tmp_path, device="cpu")
    assert ia["trained"] and not ib["trained"]
    x = torch.randn(2, 1, 8, 8)
    assert torch.equal(a(x, 0.5), b(x, 0.5))
    keys = {config_key(cfg)}
    for field, value in (("N", 33), ("seed", 1), ("channels", 8), ("steps", 31), ("lr", 1e-3), ("data_seed", 2),
                         ("dataset", "mnist"), ("P_std", 1.5)):
        keys.add(config_key(dataclasses.replace(cfg, **{field: value})))
    assert len(keys) == 9
    import gendiff.cache as gc
    old = gc.TRAIN_CODE_VERSION
    try:
        gc.TRAIN_CODE_VERSION = old + 1
        assert config_key(cfg) not in keys
    finally:
        gc.TRAIN_CODE_VERSION = old


def test_truncated_files_are_detected(tmp_path):
    cfg = NetConfig(**TINY)
    get_model(cfg, progress=False, root=tmp_path, device="cpu")
    store = ModelStore(cfg, tmp_path)
    p = store.dir / "model.safetensors"
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(GendiffError, match="truncated or corrupt"):
        get_model(cfg, progress=False, root=tmp_path, device="cpu")
    # a truncated checkpoint is never used: it is set aside, saying so, and training starts from step 0
    (store.dir / "checkpoints").mkdir()
    (store.dir / "checkpoints" / "step_0000010.pt").write_bytes(b"PK\x03\x04garbage")
    tr = EDMTrainer(cfg.build((1, 8, 8)), torch.zeros(4, 1, 8, 8))
    from gendiff._checks import GendiffWarning

    with pytest.warns(GendiffWarning, match="step_0000010.pt is not a valid checkpoint"):
        assert store.load_checkpoint(tr) is False
    assert not store.checkpoints()


def test_bad_config_and_snapshot():
    with pytest.raises(GendiffError, match="N must be >= 1"):
        NetConfig(N=0)
    with pytest.raises(GendiffError, match="channels must be >= 4"):  # the U-Net's attention head needs 2c >= 8
        NetConfig(N=5, channels=3)
    NetConfig(N=5, channels=3, arch="mlp")  # an MLP's width has no such floor
    with pytest.raises(GendiffError, match="snapshots"):
        NetConfig(N=5, steps=10, snapshots=(20,))
    with pytest.raises(GendiffError, match="snapshot=5"):
        get_model(NetConfig(**TINY), snapshot=5)
    with pytest.raises(GendiffError, match="N=5000 is larger"):
        NetConfig(N=5000, dataset="digits").training_set()


def test_pretrained_unet_loads_through_the_same_path(tmp_path):
    unet = build_unet(4, 1, 8)
    unet.save_pretrained(str(tmp_path / "unet"))
    D = load_unet_denoiser(tmp_path / "unet")
    from gendiff.denoisers.net import EDMPrecond

    ref = EDMPrecond(UNetF(unet))
    x = torch.randn(3, 1, 8, 8)
    assert torch.allclose(D(x, 0.7), ref(x, 0.7), atol=1e-6)


def test_data_part_gives_disjoint_sets_and_keeps_part0_key():
    from gendiff.cache import config_key
    from gendiff.zoo import NetConfig

    a, b = NetConfig(N=50, dataset="digits", size=8), NetConfig(N=50, dataset="digits", size=8, data_part=1)
    assert "data_part" not in a.to_dict() and b.to_dict()["data_part"] == 1 and config_key(a) != config_key(b)
    ya, yb = a.training_set(), b.training_set()
    assert ya.shape == yb.shape == (50, 1, 8, 8)
    assert torch.cdist(ya.flatten(1), yb.flatten(1)).min() > 0  # no image in both
    assert torch.equal(ya, NetConfig(N=100, dataset="digits", size=8).training_set()[:50])  # part 0 stays nested
    with pytest.raises(GendiffError, match="N"):
        NetConfig(N=1000, dataset="digits", size=8, data_part=1).training_set()


def test_derived_results_are_computed_once_and_checked(tmp_path):
    from gendiff.cache import derived

    cfg = NetConfig(N=8, dataset="digits", size=8)
    calls = []

    def compute():
        calls.append(1)
        return {"x": torch.arange(3)}

    a = derived(cfg, "thing", {"p": 1}, compute, root=tmp_path)
    b = derived(cfg, "thing", {"p": 1}, compute, root=tmp_path)
    assert len(calls) == 1 and torch.equal(a["x"], b["x"])
    (f,) = (tmp_path / config_key(cfg) / "derived").glob("thing_*.pt")
    f.write_bytes(f.read_bytes()[:10])
    with pytest.raises(GendiffError, match="corrupt"):
        derived(cfg, "thing", {"p": 1}, compute, root=tmp_path)
    derived(cfg, "thing", {"p": 2}, compute, root=tmp_path)  # other parameters: computed anew
    assert len(calls) == 2


def test_truncated_cache_json_and_full_disk_are_named(tmp_path, monkeypatch):
    cfg = NetConfig(**TINY)
    get_model(cfg, progress=False, root=tmp_path, device="cpu")
    store = ModelStore(cfg, tmp_path)
    for name in ("info.json", "manifest.json"):
        p = store.dir / name
        keep = p.read_text()
        p.write_text(keep[: len(keep) // 2])
        with pytest.raises(GendiffError, match=f"{name} is truncated or corrupt.*delete the folder"):
            get_model(cfg, progress=False, root=tmp_path, device="cpu")
        p.write_text(keep)

    def full(*a, **k):
        raise RuntimeError("[enforce fail at inline_container.cc:778] . PytorchStreamWriter failed writing file")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(GendiffError, match=r"could not write .*checkpoints/step_0000010.pt.*disk full"):
        get_model(dataclasses.replace(cfg, seed=1), progress=False, checkpoint_every=10, root=tmp_path, device="cpu")


def _train_tiny(root):
    return get_model(NetConfig(**TINY), progress=False, root=root, device="cpu")[1]["trained"]


def test_two_processes_train_a_new_net_once(tmp_path):
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(2) as pool:
        trained = pool.map(_train_tiny, [tmp_path, tmp_path])
    assert sorted(trained) == [False, True]
    assert (ModelStore(NetConfig(**TINY), tmp_path).dir / "model.safetensors").stat().st_mode & 0o044 == 0o044


def test_split_gives_the_nets_training_set_and_disjoint_heldout_images():
    from gendiff.data import load_dataset

    x = load_dataset("digits", size=8)
    key = lambda t: {tuple(r.flatten().tolist()) for r in t}  # noqa: E731
    for part in (0, 1):
        cfg = NetConfig(**{**TINY, "data_part": part})
        y, held = cfg.split(50)
        assert torch.equal(y, cfg.training_set())
        assert held.shape[0] == 50 and not (key(y) & key(held))
    # held-out images are the same for every N (the end of one permutation), and never in a larger N's set
    held_small = NetConfig(**{**TINY, "N": 16}).split(50)[1]
    assert torch.equal(held_small, NetConfig(**TINY).split(50)[1])
    with pytest.raises(GendiffError, match="n_heldout"):
        NetConfig(**{**TINY, "N": x.shape[0] - 10}).split(11)


def test_heatmaps_of_the_learned_term_are_cached_apart_and_differ_by_the_skip_path(tmp_path, monkeypatch):
    from gendiff import analytic, edm

    monkeypatch.setenv("GENDIFF_CACHE", str(tmp_path))
    cfg = NetConfig(**TINY)
    net, _ = get_model(cfg, progress=False, device="cpu")
    x0 = cfg.training_set()[:2]
    full = analytic.heatmaps(cfg, net, x0, [0.002, 1.0], progress=False)
    learned = analytic.heatmaps(cfg, net, x0, [0.002, 1.0], progress=False, part="network")
    assert not torch.equal(full, learned)  # a shared cache key would return the same maps
    c_skip = float(edm.preconditioning(torch.tensor(0.002))[0])
    diag_full = torch.stack([full[0, i, j, i, j] for i in range(8) for j in range(8)])
    diag_learned = torch.stack([learned[0, i, j, i, j] for i in range(8) for j in range(8)])
    assert float(diag_full.min()) > 0.9 * c_skip  # the identity dominates D's own pixel at low noise
    assert float(diag_learned.max()) < 0.5 * float(diag_full.min())
    with pytest.raises(GendiffError, match="part"):
        analytic.heatmaps(cfg, net, x0, [1.0], part="skip")


def test_with_seed_changes_only_the_training_seed():
    from gendiff.cache import config_key

    a = NetConfig(N=64, channels=8, steps=10, snapshots=(5,))
    b = a.with_seed(2)
    assert b.seed == 2 and {k: v for k, v in b.to_dict().items() if k != "seed"} == \
        {k: v for k, v in a.to_dict().items() if k != "seed"}
    assert config_key(a) != config_key(b) and config_key(a.with_seed(0)) == config_key(a)
    assert torch.equal(a.training_set(), b.training_set())  # the same images


def test_mlp_family_trains_and_caches_under_its_own_key(tmp_path):
    from gendiff.nets import MLP
    from gendiff.zoo import n_params

    cfg = NetConfig(**{**TINY, "arch": "mlp", "channels": 24, "layers_per_block": 2})
    assert config_key(cfg) != config_key(NetConfig(**{**TINY, "channels": 24, "layers_per_block": 2}))
    net, info = get_model(cfg, progress=False, root=tmp_path, device="cpu")
    assert isinstance(net.model, MLP) and info["trained"]
    assert n_params(net) == (64 + 32) * 24 + 24 + 24 * 24 + 24 + 24 * 64 + 64  # width 24, two hidden layers, d = 64
    again, info2 = get_model(cfg, progress=False, root=tmp_path, device="cpu")
    assert not info2["trained"]
    z = torch.randn(3, 1, 8, 8)
    assert torch.equal(net(z, 0.5), again(z, 0.5)) and net(z, 0.5).shape == z.shape
    with pytest.raises(GendiffError, match="arch"):
        NetConfig(**{**TINY, "arch": "transformer"})


def test_digest_tells_apart_inputs_a_float_sum_would_confuse():
    from gendiff.cache import digest

    a, b = torch.tensor([1.0, 2.0]), torch.tensor([2.0, 1.0])  # same sum, same shape
    assert digest(a) != digest(b) and digest(a) == digest(a.clone())
    assert digest(a) != digest(a.double()) and digest(a, 1) != digest(a, 2)


def test_source_digest_follows_the_code(tmp_path, monkeypatch):
    import importlib
    import sys

    from gendiff.cache import source_digest

    (tmp_path / "tmpmod_gd.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("tmpmod_gd")
    before = source_digest(mod)
    (tmp_path / "tmpmod_gd.py").write_text("X = 2\n")
    assert source_digest(mod) != before
    sys.modules.pop("tmpmod_gd", None)


def test_cached_mse_samples_and_distillation_equal_the_direct_computation_and_load_later(tmp_path, monkeypatch):
    """The cached evaluations equal the uncached ones bit for bit, the second call loads (no denoiser call), and
    other inputs or another calibration compute anew (the wrong world: a stale result served for new inputs)."""
    from gendiff import analytic
    from gendiff.denoisers import base
    from gendiff.distill import distill_cached
    from gendiff.sampling import edm_sampler, initial_noise

    monkeypatch.setenv("GENDIFF_CACHE", str(tmp_path))
    cfg = NetConfig(**TINY)
    net, _ = get_model(cfg, progress=False, device="cpu")
    y = cfg.training_set()
    sigmas = [0.1, 1.0]
    cal = {"sigmas": sigmas, "square": [3, 5], "flex": [0.5, 0.5], "els_circ": [3, 5], "alpha": 0.1, "tau": [1.0, 2.0]}
    heat = torch.rand(2, 8, 8, 8, 8, generator=torch.Generator().manual_seed(0))
    dens = analytic.analytic_denoisers(y, cal, heat)
    inputs = analytic.forward_inputs(y[:3], sigmas, seed=1)
    direct = analytic.mse_to(net, dens, inputs)
    assert analytic.cached_mse(cfg, net, dens, inputs) == direct
    per = analytic.cached_mse(cfg, net, dens, inputs, per_image=True)  # the same cache entry, each image's MSE
    per_direct = analytic.mse_to(net, dens, inputs, per_image=True)
    assert all(torch.equal(a, b) for n in dens for a, b in zip(per[n], per_direct[n]))
    assert [v.numel() for v in per["ELS"]] == [min(3, analytic.EVAL_LIMITS["ELS"])] * len(sigmas)
    x_T = initial_noise(2, (1, 8, 8), 0)
    samples = analytic.cached_samples(cfg, dens, x_T, num_steps=4)
    assert torch.equal(samples["ELS"], edm_sampler(dens["ELS"], x_T, num_steps=4).clamp(-1, 1))

    calls = []
    real = base.Denoiser.__call__
    monkeypatch.setattr(base.Denoiser, "__call__", lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    assert analytic.cached_mse(cfg, net, dens, inputs) == direct
    analytic.cached_samples(cfg, dens, x_T, num_steps=4)
    assert not calls  # loaded, not recomputed
    analytic.cached_mse(cfg, net, dens, analytic.forward_inputs(y[:3], sigmas, seed=2))
    assert calls  # other inputs: computed anew
    calls.clear()
    other = analytic.analytic_denoisers(y, dict(cal, square=[5, 5]), heat)
    analytic.cached_samples(cfg, other, x_T, num_steps=4)
    assert calls  # another calibration: computed anew
    with pytest.raises(GendiffError, match="analytic_denoisers"):
        analytic.cached_mse(cfg, net, {"D_M": dens["D_M"]}, inputs)

    from gendiff.cache import net_samples

    xs = net_samples(cfg, net, x_T, num_steps=4)
    assert torch.equal(xs, edm_sampler(net, x_T, num_steps=4).clamp(-1, 1))
    assert not torch.equal(net_samples(cfg, net, x_T, num_steps=5), xs)  # other steps: computed anew

    x = y[:16]
    L = distill_cached(cfg, net, x, sigmas, n_pairs=64, seed=3)
    ref = distill(net, x, sigmas, n_pairs=64, seed=3)
    assert torch.equal(L.W, ref.W) and torch.equal(L.b, ref.b)
    assert not torch.equal(distill_cached(cfg, net, x, sigmas, n_pairs=64, seed=4).W, ref.W)


def test_precision_is_part_of_a_net_and_bf16_trains(tmp_path):
    a = NetConfig(**TINY)
    b = dataclasses.replace(a, precision="bf16")
    assert "precision" not in a.to_dict() and config_key(a) != config_key(b)  # the fp32 keys stay as they were
    with pytest.raises(GendiffError, match="precision must be one of"):
        NetConfig(**TINY, precision="fp8")
    Da, _ = get_model(a, progress=False, root=tmp_path, device="cpu")
    Db, info = get_model(b, progress=False, root=tmp_path, device="cpu")
    assert all(p.dtype == torch.float32 for p in Db.parameters())  # autocast in training only; fp32 weights
    x = torch.randn(4, 1, 8, 8)
    assert 0 < float((Da(x, 0.5) - Db(x, 0.5)).abs().max()) < 0.5  # a different net, of the same kind


def test_a_registered_denoiser_family_joins_calibration_and_the_denoisers(tmp_path, monkeypatch):
    """A new training-free denoiser joins notebooks 10-11 by registering a family, without editing analytic.py; the
    built-in ones are calibrated as before (each candidate's MSE on the same noisy inputs)."""
    from gendiff import analytic
    from gendiff.denoisers import EmpiricalDenoiser
    from gendiff.locality import calibrate

    monkeypatch.setenv("GENDIFF_CACHE", str(tmp_path))
    monkeypatch.setattr(analytic, "FAMILIES", list(analytic.FAMILIES))
    monkeypatch.setattr(analytic, "_KEY_ORDER", list(analytic._KEY_ORDER))
    cfg = NetConfig(**TINY)
    net, _ = get_model(cfg, progress=False, device="cpu")
    y, x_cal = cfg.training_set(), cfg.split(8)[1]
    sigmas = [0.1, 1.0]
    heat = torch.rand(2, 8, 8, 8, 8, generator=torch.Generator().manual_seed(0))
    base_cal = analytic.calibrated(cfg, net, y, x_cal, sigmas, heat, els=False)
    # the built-in square sizes, recomputed by hand, are what calibrated() chose
    best, _ = calibrate(lambda s: analytic.PSPCSquare(y, s), analytic.square_sizes(8), net, x_cal, sigmas,
                        generator=torch.Generator().manual_seed(0))
    assert base_cal["square"] == best
    analytic.register(analytic.Family("D_M of n", "dm_n", lambda y, heat, s, v: EmpiricalDenoiser(y[:v]),
                                      lambda side: (4, 8), per_sigma=False))
    with pytest.raises(GendiffError, match="registered already"):
        analytic.register(analytic.Family("PSPC-Square", "sq2", lambda *a: None, lambda side: (1,)))
    cal = analytic.calibrated(cfg, net, y, x_cal, sigmas, heat, els=False)
    assert cal["dm_n"] in (4, 8) and set(cal["tables"]["dm_n"][1.0]) == {4, 8}
    assert cal["square"] == base_cal["square"]
    dens = analytic.analytic_denoisers(y, cal, heat)
    assert list(dens) == ["D_G", "D_M", "PSPC-Square", "PSPC-Flex", "smoothed D_M", "tempered D_M", "D_M of n"]
    assert "ELS" not in dens and "els_circ" not in cal  # els=False skips the authors' ELS too
    assert dens["D_M of n"].y.shape[0] == cal["dm_n"]


def test_unseen_images_are_outside_the_training_and_heldout_sets():
    """The population proxy's images: disjoint from the net's training set (every data part) and from split's
    held-out images; asking for more than the dataset leaves is one error naming n."""
    cfg = NetConfig(N=600, dataset="digits", size=8, channels=4, steps=1, data_part=1)
    y, y_out = cfg.split(100)
    u = cfg.unseen(200, 100)
    part0 = NetConfig(N=600, dataset="digits", size=8, channels=4, steps=1).training_set()

    def rows(t):
        return {tuple(r) for r in t.flatten(1).tolist()}

    assert u.shape[0] == 200 and not rows(u) & rows(y) and not rows(u) & rows(y_out) and not rows(u) & rows(part0)
    with pytest.raises(GendiffError, match="n=498 is larger than the maximum 497"):
        cfg.unseen(1797 - 1200 - 100 + 1, 100)


def test_the_built_in_ELS_is_the_authors_and_ours_is_kept_apart(tmp_path, monkeypatch):
    """The ELS that notebooks 10-11 calibrate is Kamb & Ganguli's (circular padding), under a key of its own; the
    zero-padded machine is our variant, registered only on request, and a calibration cached for one is never
    served for the other (the wrong world: a stale zero-padded schedule read as the authors')."""
    from gendiff import analytic

    monkeypatch.setenv("GENDIFF_CACHE", str(tmp_path))
    monkeypatch.setattr(analytic, "FAMILIES", list(analytic.FAMILIES))
    monkeypatch.setattr(analytic, "_KEY_ORDER", list(analytic._KEY_ORDER))
    y = NetConfig(**TINY).training_set()
    heat = torch.rand(2, 8, 8, 8, 8, generator=torch.Generator().manual_seed(0))
    cal = {"sigmas": [0.1, 1.0], "els_circ": [3, 5]}
    dens = analytic.analytic_denoisers(y, cal, heat)
    assert dens["ELS"].padding == "circular" and "ELS (zero padding, ours)" not in dens
    analytic.register(analytic.ELS_ZERO_PADDED)
    both = analytic.analytic_denoisers(y, {**cal, "els": [3, 5]}, heat)
    assert both["ELS (zero padding, ours)"].padding == "zeros" and both.key != dens.key
    x = torch.randn(2, 1, 8, 8)
    assert not torch.allclose(both["ELS"](x, 1.0), both["ELS (zero padding, ours)"](x, 1.0))

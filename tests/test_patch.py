"""Patch denoisers, ELS, smoothed D_M and locality tools against brute-force references and exact identities."""
import math

import pytest
import torch

from gendiff import GendiffError
from gendiff.denoisers import (ELSDenoiser, EmpiricalDenoiser, PatchPosteriorDenoiser, PSPCFlex, PSPCSquare, Schedule,
                               SmoothedEmpiricalDenoiser)
from gendiff.denoisers.patch import (cifar_flex_schedule, cifar_square_schedule, mask_from_heatmap,
                                     masked_patch_composite, patch_posterior_loop, square_masks,
                                     square_patch_composite, square_patches)
from gendiff.locality import calibrate, centred_square_sizes, jacobian, sensitivity_heatmaps


@pytest.fixture
def toy():
    g = torch.Generator().manual_seed(0)
    y = (torch.rand(40, 2, 5, 5, generator=g) * 2 - 1).double()
    z = y[:4] + 0.6 * torch.randn(4, 2, 5, 5, generator=g).double()
    sigma = torch.tensor([0.5, 0.3, 1.0, 0.5], dtype=torch.float64)
    return y, z, sigma


def test_full_image_crop_is_empirical_denoiser(toy):
    y, z, s = toy
    E = EmpiricalDenoiser(y)(z, s)
    assert torch.allclose(PSPCSquare(y, 5)(z, s), E, atol=1e-12)
    assert torch.allclose(PSPCSquare(y, 99)(z, s), E, atol=1e-12)  # clipped to the image
    assert torch.allclose(PatchPosteriorDenoiser(y, torch.ones(1, 5, 5, dtype=torch.bool))(z, s), E, atol=1e-12)


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_square_composite_matches_per_crop_loop(toy, size):
    y, z, s = toy
    ref = patch_posterior_loop(z, y, square_masks(5, 5, size), s, chunk=7)
    assert torch.allclose(square_patch_composite(z, y, size, s, budget=300), ref, atol=1e-12)
    assert torch.allclose(masked_patch_composite(z, y, square_masks(5, 5, size), s, budget=300), ref, atol=1e-12)


def test_square_patches_and_their_reuse(toy):
    y, z, s = toy
    yp, half = square_patches(y, 3)
    masks = square_masks(5, 5, 3).reshape(9, -1)
    for p in range(9):  # brute force: the crop's pixels of every channel, row-major
        want = y.reshape(40, 2, 25)[:, :, masks[p]].reshape(40, -1)
        assert torch.equal(yp[p], want)
        assert torch.allclose(half[p], 0.5 * (want**2).sum(1), atol=1e-12)
    ref = square_patch_composite(z, y, 3, s)
    assert torch.allclose(square_patch_composite(z, y, 3, s, budget=50, patches=(yp, half)), ref, atol=1e-12)
    sched = Schedule([0.3, 1.0], [2, 3])  # sizes 2, 2, 3, 2 for the toy's sigmas
    cached, uncached = PSPCSquare(y, sched), PSPCSquare(y, sched, patch_cache=0)
    first = cached(z, s)
    assert torch.allclose(first, uncached(z, s), atol=1e-12) and torch.equal(cached(z, s), first)
    assert torch.allclose(first[2], ref[2], atol=1e-12)
    assert uncached._patches == {}
    held = sum(a.numel() + b.numel() for a, b in cached._patches.values())
    assert len(cached._patches) == 2 and held <= cached.patch_cache
    small = PSPCSquare(y, sched, patch_cache=held - 1)  # room for one size at a time
    assert torch.allclose(small(z, s), cached(z, s), atol=1e-12)
    assert len(small._patches) == 1
    with pytest.raises(GendiffError, match="not square_patches"):
        square_patch_composite(z, y, 2, s, patches=(yp, half))  # made for s = 3


def test_single_pixel_crops_are_the_per_pixel_posterior(toy):
    y, z, s = toy
    # brute force: pixel (i, j) of every channel, posterior over the N values at that pixel
    d2 = ((z[:, None] - y[None]) ** 2).sum(2)  # (B, N, H, W), summed over channels
    w = torch.softmax(-d2 / (2 * s[:, None, None, None] ** 2), dim=1)
    want = (w[:, :, None] * y[None]).sum(1)
    assert torch.allclose(PSPCSquare(y, 1)(z, s), want, atol=1e-12)


def test_flex_lambda_one_is_empirical_and_flex_matches_loop(toy):
    y, z, s = toy
    heat = torch.rand(2, 5, 5, 5, 5, generator=torch.Generator().manual_seed(1)).double()
    E = EmpiricalDenoiser(y)(z, s)
    assert torch.allclose(PSPCFlex(y, heat, [0.1, 1.0], 1.0)(z, s), E, atol=1e-12)
    F = PSPCFlex(y, heat, [0.1, 1.0], 0.3)
    u, c = F.masks_for(0.5)
    assert int(c.sum()) == 25 and all(bool(u[:, i, j].any()) for i in range(5) for j in range(5))
    crops = torch.cat([m[None].expand(int(k), -1, -1) for m, k in zip(u, c)])
    keep = s == 0.5
    assert torch.allclose(F(z, s)[keep], patch_posterior_loop(z, y, crops, s)[keep], atol=1e-12)


def test_mask_from_heatmap_takes_the_largest_until_lambda():
    h = torch.tensor([[0.5, 0.1], [0.3, 0.1]])
    assert mask_from_heatmap(h, 0.5).tolist() == [[True, False], [False, False]]
    assert mask_from_heatmap(h, 0.6).tolist() == [[True, False], [True, False]]
    assert mask_from_heatmap(h, 1.0).all()
    with pytest.raises(GendiffError, match="lambda"):
        mask_from_heatmap(h, 0.0)


def test_schedules_and_errors(toy):
    y, z, s = toy
    sq = cifar_square_schedule()
    assert sq(80.0) == 32 and sq(0.002) == 3 and sq(1.0) in (5, 7)
    assert cifar_flex_schedule()(80.0) == 1.0 and cifar_flex_schedule()(0.002) == 0.3
    with pytest.raises(GendiffError, match="one value per sigma"):
        Schedule([1.0, 2.0], [3])
    with pytest.raises(GendiffError, match="shape"):
        PSPCSquare(y, 3)(z[:, :1], s)
    with pytest.raises(GendiffError, match="no crop"):
        masked_patch_composite(z, y, torch.zeros(1, 5, 5, dtype=torch.bool), s)
    # a schedule picks the patch size per input
    mixed = PSPCSquare(y, Schedule([0.3, 1.0], [1, 5]))(z, s)
    assert torch.allclose(mixed[2], EmpiricalDenoiser(y)(z[2:3], s[2:3])[0], atol=1e-12)
    assert torch.allclose(mixed[1], PSPCSquare(y, 1)(z[1:2], s[1:2])[0], atol=1e-12)


def els_brute(z, y, s, sigma, pad=0.0):
    r = s // 2
    zp = torch.nn.functional.pad(z, (r, r, r, r), value=pad)
    yp = torch.nn.functional.pad(y, (r, r, r, r), value=pad)
    B, C, H, W = z.shape
    out = torch.zeros_like(z)
    pool = [(yp[i, :, a:a + s, b:b + s], y[i, :, a, b]) for i in range(y.shape[0]) for a in range(H) for b in range(W)]
    P = torch.stack([p for p, _ in pool]).flatten(1)
    V = torch.stack([v for _, v in pool])
    for bb in range(B):
        for a in range(H):
            for b in range(W):
                q = zp[bb, :, a:a + s, b:b + s].flatten()
                w = torch.softmax(-((P - q) ** 2).sum(1) / (2 * sigma[bb] ** 2), 0)
                out[bb, :, a, b] = w @ V
    return out


def els_authors_brute(z, y, s, sigma):
    """Kamb & Ganguli's equivariant ELS, written as its definition: the query is the s x s patch around each pixel of
    the circularly wrapped input; the pool is every s x s patch lying wholly inside a training image."""
    B, C, H, W = z.shape
    r = s // 2
    pool = [(y[i, :, a:a + s, b:b + s], y[i, :, a + r, b + r]) for i in range(y.shape[0])
            for a in range(H - s + 1) for b in range(W - s + 1)]
    P = torch.stack([p for p, _ in pool]).flatten(1)
    V = torch.stack([v for _, v in pool])
    out = torch.zeros_like(z)
    for bb in range(B):
        for a in range(H):
            for b in range(W):
                rows = [(a + da) % H for da in range(-r, r + 1)]
                cols = [(b + db) % W for db in range(-r, r + 1)]
                q = z[bb][:, rows][:, :, cols].flatten()
                w = torch.softmax(-((P - q) ** 2).sum(1) / (2 * sigma[bb] ** 2), 0)
                out[bb, :, a, b] = w @ V
    return out


@pytest.mark.parametrize("s", [1, 3, 5])
def test_els_as_its_authors_define_it_matches_their_definition_by_loop(toy, s):
    y, z, sig = toy
    got = ELSDenoiser(y[:6], s, budget=500, padding="circular")(z, sig)
    assert torch.allclose(got, els_authors_brute(z, y[:6], s, sig), atol=1e-12)
    if s > 1:  # and it is not our zero-padded variant
        assert not torch.allclose(got, ELSDenoiser(y[:6], s, budget=500)(z, sig), atol=1e-6)
    # exactly equivariant to circular shifts of the input, borders included
    shifted = ELSDenoiser(y[:6], s, padding="circular")(torch.roll(z, (1, 2), (2, 3)), sig)
    assert torch.allclose(shifted, torch.roll(got, (1, 2), (2, 3)), atol=1e-12)
    with pytest.raises(GendiffError, match="must fit inside"):
        ELSDenoiser(y[:6], z.shape[-1] + 2, padding="circular")
    with pytest.raises(GendiffError, match="ELS padding must be one of"):
        ELSDenoiser(y[:6], 3, padding="reflect")


@pytest.mark.parametrize("s", [1, 3])
def test_els_matches_brute_force(toy, s):
    y, z, sig = toy
    assert torch.allclose(ELSDenoiser(y[:6], s, budget=500)(z, sig), els_brute(z, y[:6], s, sig), atol=1e-12)


def test_els_is_translation_equivariant_away_from_borders():
    g = torch.Generator().manual_seed(2)
    y = torch.zeros(6, 1, 9, 9, dtype=torch.float64)
    y[:, :, 2:5, 2:5] = torch.rand(6, 1, 3, 3, generator=g).double()
    z = torch.zeros(1, 1, 9, 9, dtype=torch.float64)
    z[:, :, 2:5, 2:5] = torch.rand(1, 1, 3, 3, generator=g).double()
    D = ELSDenoiser(y, 3)
    a, b = D(z, 0.3), D(torch.roll(z, (2, 3), (2, 3)), 0.3)
    assert torch.allclose(torch.roll(a, (2, 3), (2, 3)), b, atol=1e-12)
    with pytest.raises(GendiffError, match="odd"):
        ELSDenoiser(y, 2)


def test_smoothed_empirical_limits_and_quadrature():
    y = torch.tensor([[-1.0], [1.0]], dtype=torch.float64)
    x = torch.tensor([[0.3]], dtype=torch.float64)
    E = EmpiricalDenoiser(y)
    assert torch.allclose(SmoothedEmpiricalDenoiser(y, 1e-9, n_draws=4)(x, 0.5), E(x, 0.5), atol=1e-9)
    # E_u D_M(x + a u) in 1-d against Gauss-Hermite quadrature
    a, sig = 0.4, 0.5
    nodes, weights = [torch.tensor(v, dtype=torch.float64) for v in __import__("numpy").polynomial.hermite_e.hermegauss(60)]
    want = (weights * E((x + a * nodes[:, None]), sig)[:, 0]).sum() / math.sqrt(2 * math.pi)
    got = SmoothedEmpiricalDenoiser(y, a, n_draws=20000, seed=1)(x, sig)
    assert abs(float(got) - float(want)) < 4e-3


def test_jacobian_and_heatmaps_of_a_linear_map():
    g = torch.Generator().manual_seed(3)
    A = torch.randn(2 * 3 * 3, 2 * 3 * 3, generator=g)

    class Lin(torch.nn.Module):
        def forward(self, x, sigma):
            return (x.flatten(1) @ A.T).reshape(x.shape) * sigma[:, None, None, None]

    z = torch.randn(3, 2, 3, 3, generator=g)
    J = jacobian(Lin(), z, torch.tensor([1.0, 2.0, 0.5]), batch=7)
    assert torch.allclose(J[1], 2 * A, atol=1e-5) and torch.allclose(J[2], 0.5 * A, atol=1e-5)
    heat = sensitivity_heatmaps(Lin(), z, 1.0, generator=torch.Generator().manual_seed(0))
    want = A.abs().reshape(2, 3, 3, 2, 3, 3).sum((0, 3))
    assert torch.allclose(heat.float(), want, atol=1e-5)


def test_centred_square_sizes():
    heat = torch.zeros(5, 5, 5, 5)
    for i in range(5):
        for j in range(5):
            heat[i, j, i, j] = 0.6  # 60 % on the pixel itself
            heat[i, j, min(i + 2, 4), j] += 0.4  # the rest two rows below (or on itself at the border)
    s50, s95 = centred_square_sizes(heat, 0.5), centred_square_sizes(heat, 0.95)
    assert (s50 == 1).all()
    assert s95[0, 0] == 5 and s95[4, 4] == 1  # at the bottom border the extra mass sits on the pixel itself


def test_calibrate_finds_the_generating_patch_size(toy):
    y, z, _ = toy
    net = PSPCSquare(y, 3)
    best, table = calibrate(lambda s: PSPCSquare(y, s), [1, 2, 3, 5], net, y[:8], [0.3, 1.0],
                            generator=torch.Generator().manual_seed(0))
    assert best == [3, 3] and table[0.3][3] < 1e-15


def test_jacobian_replica_fallback_matches():
    from gendiff.locality import _jacobian_replicas

    g = torch.Generator().manual_seed(4)
    A = torch.randn(8, 8, generator=g)

    class Tanh(torch.nn.Module):
        def forward(self, x, sigma):
            return torch.tanh(x.flatten(1) @ A.T).reshape(x.shape) / sigma[:, None, None, None]

    z = torch.randn(2, 2, 2, 2, generator=g)
    s = torch.tensor([1.0, 2.0])
    assert torch.allclose(jacobian(Tanh(), z, s, batch=3), _jacobian_replicas(Tanh(), z, s, 5), atol=1e-6)


def test_calibration_and_evaluation_images_must_be_disjoint():
    from gendiff import analytic

    x = torch.arange(5 * 4, dtype=torch.float32).reshape(5, 1, 2, 2)
    analytic.check_disjoint(x[:3], x[3:])
    with pytest.raises(GendiffError, match="1 of the 3 evaluation images are calibration images"):
        analytic.check_disjoint(x[:3], x[2:])


def test_no_locality_sizes_by_counting():
    """A uniform map: the clipped square of radius r around pixel (i, j) holds (rows in reach) x (cols in reach)
    of the H W pixels; the 50 % side is the first r reaching H W / 2."""
    from gendiff.locality import no_locality_sizes

    s = no_locality_sizes(16, 16, 0.5)
    assert s[8, 8] == 13 and s[0, 0] == 23 and s.max() == 23  # 11 x 11 = 121 < 128 <= 13 x 13; 12 x 12 >= 128
    reach = lambda i, r: min(15, i + r) - max(0, i - r) + 1  # noqa: E731
    for i, j in [(3, 7), (0, 9), (15, 2)]:
        r = next(r for r in range(16) if reach(i, r) * reach(j, r) >= 128)
        assert s[i, j] == 2 * r + 1
    assert (no_locality_sizes(16, 16, 1.0)[0, 0]) == 31  # a corner pixel reaches the far corner only at 2 * 16 - 1

"""The study's nets as one plan: listed once across notebooks, trained as tasks, checked against a run's cache.
(That the plan is exactly what the notebooks train is checked by `make test` after the smoke notebooks have run:
`gendiff plan --profile smoke --check` against their cache.)"""
import pytest

from gendiff import GendiffError
from gendiff.study import plan as P


def test_the_smoke_plan_lists_each_net_once_with_every_notebook_that_needs_it():
    nets = P.study_plan("smoke")
    keys = [pn.key for pn in nets]
    assert len(keys) == len(set(keys))
    shared = [pn for pn in nets if len(pn.notebooks) > 1]
    assert shared and all(pn.notebooks == sorted(pn.notebooks) for pn in shared)
    assert {n for pn in nets if pn.adaptive for n in pn.notebooks} == {"12_transition_scaling"}
    # a net 03 needs and 12's walk could reach is fixed: 03 trains it whatever 12's walk does
    assert any(not pn.adaptive and "12_transition_scaling" in pn.notebooks for pn in nets)
    per_nb = {n: sum(n in pn.notebooks for pn in nets) for n in P.NETS}
    assert all(per_nb.values()), per_nb  # every notebook that trains nets has some in the plan


def test_the_plan_follows_the_parameters():
    one = P.study_plan("smoke", ["06"])
    two = P.study_plan("smoke", ["06"], {"seeds": [0, 1, 5]})
    assert len(two) == 3 * len(one) // len({pn.cfg.seed for pn in one})
    assert {pn.cfg.seed for pn in two} == {0, 1, 5}
    with pytest.raises(GendiffError, match="unknown parameter 'nope'"):
        P.study_plan("smoke", ["06"], {"nope": 1})


def test_train_trains_what_the_cache_lacks_once_and_the_check_agrees(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GENDIFF_CACHE", str(tmp_path))
    over = {"seeds": [0], "steps": 5}
    nets = P.study_plan("smoke", ["06"], over)
    assert P.check_against_cache(nets)  # nothing trained yet: every net is missing
    done = P.train_plan("smoke", ["06"], overrides=over)
    assert len(done) == len(nets) and all(d["trained"] for d in done)
    assert P.check_against_cache(nets) == []
    assert P.plan_table(nets).cached.all()
    assert P.train_plan("smoke", ["06"], overrides=over) == []  # all cached: nothing to do
    extra = P.study_plan("smoke", ["06"], {"seeds": [1], "steps": 5})
    P.train_plan("smoke", ["06"], overrides={"seeds": [1], "steps": 5})
    assert any("trained but in no notebook's plan" in m for m in P.check_against_cache(nets))
    assert P.check_against_cache(nets + extra) == []


def test_a_net_that_fails_is_named_and_the_others_train(tmp_path, monkeypatch):
    monkeypatch.setenv("GENDIFF_CACHE", str(tmp_path))
    over = {"seeds": [0], "steps": 5}
    first = P.study_plan("smoke", ["06"], over)[0]
    real = P._train_one

    def flaky(cfg, threads):
        if cfg == first.cfg:
            raise RuntimeError("out of memory")
        return real(cfg, threads)

    monkeypatch.setattr(P, "_train_one", flaky)
    with pytest.raises(GendiffError, match=r"1 of \d+ nets failed to train: unet c=\d+ N=\d+ seed=0"):
        P.train_plan("smoke", ["06"], overrides=over)
    assert [m for m in P.check_against_cache(P.study_plan("smoke", ["06"], over)) if "not trained" in m] == \
        [f"planned for 06_capacity but not trained: {first.cfg}"]


@pytest.mark.parametrize("profile", ["smoke", "default"])
def test_notebooks_that_share_nets_declare_the_same_ones(profile):
    """09-11 analyse one zoo and 04 reuses 03's nets: each keeps the value in its own parameters (papermill needs them
    there), so this checks that the copies cannot drift apart: a changed N, width or budget in one would silently
    train and analyse other nets."""
    def unets(nb):
        return {pn.key for pn in P.study_plan(profile, [nb]) if pn.cfg.arch == "unet" and pn.cfg.P_std == P_STD}

    from gendiff.edm import P_STD

    assert unets("09") and unets("09") <= unets("10")
    if profile == "default":  # at smoke, 11 scores a smaller zoo of its own to stay fast
        assert unets("10") <= unets("11")
    assert unets("04") and unets("04") <= unets("03")
    assert unets("03") & unets("05")  # the N grid's shared sizes (16, 4096 at default) are the same nets

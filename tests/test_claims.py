"""Declared claims: verdicts from declared tests and intervals, and the order rules that keep them honest."""
import json

import numpy as np
import pytest

from gendiff import GendiffError
from gendiff.study import Claims, Estimate, above, below, between
from gendiff.study.claims import combine


@pytest.fixture
def claims(tmp_path):
    c = Claims("99_test", "smoke", tmp_path)
    c.declare("a", "x is large", source="test", tests={"x": above(0.5)}, differs="x is small")
    c.declare("b", "y in a band", source="test", tests={"y": between(1, 2), "z": below(0)})
    return c


def test_point_values_decide_both_ways(claims):
    assert claims.record("a", "x = 0.7", x=0.7) == "holds"
    assert claims.record("a", "x = 0.3", x=0.3) == "differs"
    assert claims.record("b", "", y=1.5, z=-1) == "holds"
    assert claims.record("b", "", y=2.5, z=-1) == "differs"
    assert claims.record("b", "", y=1.5, z=1) == "differs"


def test_intervals_give_inconclusive_when_they_straddle(claims):
    assert claims.record("a", "", x=Estimate(0.7, 0.6, 0.8)) == "holds"
    assert claims.record("a", "", x=Estimate(0.55, 0.4, 0.7)) == "inconclusive"  # the point alone would hold
    assert claims.record("a", "", x=Estimate(0.3, 0.2, 0.4)) == "differs"
    assert claims.record("b", "", y=Estimate(1.9, 1.5, 2.3), z=-1) == "inconclusive"
    assert claims.record("a", "", x=float("nan")) == "inconclusive"  # not measurable at this scale
    assert combine(["holds", "inconclusive", "differs"]) == "differs"
    assert combine(["holds", "inconclusive"]) == "inconclusive"
    # decide: what the tests say of another reading, nothing recorded
    assert claims.decide("a", x=Estimate(0.7, 0.6, 0.8)) == "holds" and claims.verdict("a") == "inconclusive"
    assert claims.decide("b", y=1.5, z=1) == "differs"
    with pytest.raises(GendiffError, match="declares statistics"):
        claims.decide("a", y=1)


def test_order_and_names_are_enforced(claims):
    with pytest.raises(GendiffError, match="'nope' was not declared"):
        claims.record("nope", "", x=1)
    with pytest.raises(GendiffError, match=r"declares statistics \['x'\], got \['w'\]"):
        claims.record("a", "", w=1)
    with pytest.raises(GendiffError, match="declared twice"):
        claims.declare("a", "again", source="t", tests={"x": above(0)})
    claims.record("a", "", x=1.0)
    with pytest.raises(GendiffError, match="declared after a measurement"):
        claims.declare("c", "late", source="t", tests={"x": above(0)})
    with pytest.raises(GendiffError, match="not recorded: b"):
        claims.finish()


def test_number_counts_as_a_measurement(tmp_path):
    c = Claims("99_test", "smoke", tmp_path)
    c.number("n", 3)
    with pytest.raises(GendiffError, match="declared after a measurement"):
        c.declare("a", "late", source="t", tests={"x": above(0)})


def test_saved_file_holds_declaration_statistics_and_verdict(claims, tmp_path):
    claims.record("a", "x = 0.7", x=Estimate.t_interval([0.70, 0.72, 0.74]))
    assert not (tmp_path / "99_test.json").exists()  # the results of an unfinished run are the partial file
    d = json.loads((tmp_path / "99_test.json.partial").read_text())
    assert d["declared"][0]["tests"] == {"x": "> 0.5"} and d["declared"][0]["differs"] == "x is small"
    rec = d["recorded"]["a"]
    assert rec["verdict"] == "holds" and rec["stats"]["x"]["method"].endswith("t-interval over 3 seeds")


def test_t_interval_matches_scipy_and_covers_at_the_nominal_rate():
    from scipy import stats

    e = Estimate.t_interval([1.0, 2.0, 4.0])
    lo, hi = stats.t.interval(0.95, 2, loc=np.mean([1, 2, 4]), scale=stats.sem([1, 2, 4]))
    assert e.lo == pytest.approx(lo) and e.hi == pytest.approx(hi)
    rng = np.random.default_rng(0)
    cover = np.mean([(lambda e: e.lo < 0 < e.hi)(Estimate.t_interval(rng.normal(size=3))) for _ in range(2000)])
    assert 0.93 < cover < 0.97
    assert Estimate.t_interval([2.0]).lo is None



def test_ols_prediction_interval_matches_the_textbook_formula_and_covers_a_new_point():
    """Against the textbook formula computed independently (numpy lstsq + scipy t), and by simulation: a new point
    from the same line lands inside 95 % of the time (a confidence interval of the mean line would cover far less)."""
    from scipy import stats

    x, y = np.array([0.0, 1.0, 2.0, 3.0, 4.0]), np.array([0.1, 0.9, 2.2, 2.8, 4.1])
    e = Estimate.ols_prediction(x, y, 6.0)
    A = np.c_[np.ones_like(x), x]
    coef, res, *_ = np.linalg.lstsq(A, y, rcond=None)
    s2 = res[0] / 3
    se = np.sqrt(s2 * (1 + np.array([1, 6.0]) @ np.linalg.inv(A.T @ A) @ np.array([1, 6.0])))
    assert e.value == pytest.approx(coef[0] + 6 * coef[1])
    assert e.hi - e.value == pytest.approx(stats.t.ppf(0.975, 3) * se)
    rng = np.random.default_rng(0)
    xs = np.log2([600, 800, 1000, 1200, 1600, 2000])
    hits = []
    for _ in range(2000):
        yy = 1 - 0.5 * xs + rng.normal(size=xs.size)
        e = Estimate.ols_prediction(xs, yy, np.log2(4800))
        hits.append(e.lo < 1 - 0.5 * np.log2(4800) + rng.normal() < e.hi)
    assert 0.93 < np.mean(hits) < 0.97
    with pytest.raises(GendiffError, match="distinct"):
        Estimate.ols_prediction([1, 1, 1], [1, 2, 3], 2)

def test_bootstrap_interval_contains_the_mean_and_shrinks_with_n():
    rng = np.random.default_rng(1)
    small, large = (Estimate.bootstrap(rng.normal(size=n)) for n in (20, 2000))
    assert small.lo < small.value < small.hi and (large.hi - large.lo) < (small.hi - small.lo) / 5


def test_the_worst_case_over_nets_keeps_the_ends_of_their_intervals_and_covers_the_true_maximum():
    e = Estimate.extreme([Estimate(0.4), Estimate.t_interval([0.5, 0.6, 0.7]), 0.55], "max")
    assert e.value == pytest.approx(0.6) and e.hi == pytest.approx(Estimate.t_interval([0.5, 0.6, 0.7]).hi)
    assert e.lo == pytest.approx(0.55)  # a point value above the interval's lower end raises it
    assert str(e).endswith("(max of 3 nets (t, 3 seeds))")
    m = Estimate.extreme([Estimate(2.0), Estimate(1.5, 1.0, 3.0)], "min")
    assert (m.value, m.lo, m.hi) == (1.5, 1.0, 2.0)
    assert Estimate.extreme([1.0, 3.0]).method.endswith("point values")
    h = Estimate.hull([Estimate.t_interval([0.5, 0.6, 0.7]), Estimate(0.6, 0.58, 0.9, method="95% percentile "
                                                                              "bootstrap over 48 inputs")])
    assert (h.value, h.hi) == (pytest.approx(0.6), 0.9) and h.lo == pytest.approx(Estimate.t_interval([0.5, 0.6, 0.7]).lo)
    assert h.basis == "hull of t, 3 seeds & bootstrap, 48 inputs"
    assert "hull of t, 3 seeds & bootstrap, 48 inputs" in Estimate.extreme([h, 0.2]).basis
    assert Estimate.hull([Estimate(0.6), 0.7]) == Estimate(0.6)  # point values add no interval
    one = Estimate.hull([Estimate(0.6), Estimate.t_interval([0.5, 0.6, 0.7])])  # one interval: its own basis
    assert one.basis == "t, 3 seeds" and one.value == 0.6
    with pytest.raises(GendiffError, match="at least one"):
        Estimate.hull([])
    # coverage: when every interval covers its own mean, the extreme's interval covers the true maximum
    rng, hits = np.random.default_rng(3), []
    for _ in range(400):
        es = [Estimate.t_interval(rng.normal(mu, 1.0, size=5)) for mu in (0.0, 0.5)]
        hits.append(Estimate.extreme(es).lo <= 0.5 <= Estimate.extreme(es).hi)
    assert np.mean(hits) > 0.93
    with pytest.raises(GendiffError, match="which"):
        Estimate.extreme([1.0], "mean")


def test_bad_tests_and_estimates_are_refused():
    with pytest.raises(GendiffError, match="lower threshold must be below"):
        between(2, 1)
    with pytest.raises(GendiffError, match="does not contain its value"):
        Estimate(1.0, 2.0, 3.0)
    with pytest.raises(GendiffError, match="tests must map"):
        Claims("99", "smoke", "/tmp/gendiff-test-claims").declare("a", "", source="", tests={"x": 0.5})


def test_the_ledger_string_says_what_the_interval_is_over():
    assert str(Estimate.t_interval([1.0, 2.0, 3.0])).endswith("(t, 3 seeds)")
    assert str(Estimate.t_interval([1.0])) == "1 (1 seed)"
    assert str(Estimate.bootstrap([[1.0], [2.0], [4.0]])).endswith("(bootstrap, 3 inputs)")
    assert str(Estimate(0.5)) == "0.5"


def test_plot_error_bars_are_the_verdicts_interval():
    from gendiff.plots import t_ci

    x = [0.2, 0.5, 0.4]
    e = Estimate.t_interval(x)
    assert t_ci(x) == (e.lo, e.hi)
    assert t_ci([0.3]) == (0.3, 0.3)  # one seed: no bar


def test_seeds_constraint_rejects_a_repeated_seed():
    from gendiff.study import params, runner

    for nb in ("03", "04", "05", "06", "07", "08", "12"):
        d = runner.notebook_parameters(runner.read_notebook(runner.resolve(nb)))
        assert len(d["seeds"]) >= 3, f"{nb}: the read-along profile trains at least 3 seeds"
        with pytest.raises(GendiffError, match="each training seed once"):
            params.validate(runner.resolve(nb), d, {"seeds": [0, 0, 1]})


def test_constraints_can_count_the_images_of_a_second_dataset():
    """03's second dataset is bounded by its own size (digits: 1797 images), not by the first dataset's."""
    from gendiff.study import params, runner

    nb = runner.resolve("03")
    d = runner.notebook_parameters(runner.read_notebook(nb))
    params.validate(nb, d, {"second_Ns": [16, 1500]})  # 1500 + 256 held-out <= 1797
    with pytest.raises(GendiffError, match="second dataset's held-out images"):
        params.validate(nb, d, {"second_Ns": [16, 1600]})  # 1600 + 256 > 1797, though < MNIST's 5000


def test_share_intervals_are_cut_to_their_range():
    x = [0.9, 0.95, 1.0]
    free, cut = Estimate.t_interval(x), Estimate.t_interval(x, bounds=(0, 1))
    assert free.hi > 1 and cut.hi == 1 and cut.lo == free.lo and cut.value == free.value
    assert str(cut).endswith("(t, 3 seeds, cut to [0, 1])")
    assert Estimate.t_interval([0.2, 0.3, 0.4], bounds=(0, 1)) == Estimate.t_interval([0.2, 0.3, 0.4])  # inside
    b = Estimate.bootstrap(np.array([0.0, 1.0, 1.0, 1.0]), bounds=(0, 1))
    assert 0 <= b.lo <= b.value <= b.hi <= 1
    with pytest.raises(GendiffError, match="outside bounds"):
        Estimate.t_interval([1.5, 1.6], bounds=(0, 1))


def test_knife_edges_are_flagged_from_the_stored_test_and_interval():
    from gendiff.study.claims import Test, knife_edges

    for t in (above(0.5), below(0.1), between(0.666667, 1.5)):
        assert Test.parse(str(t)) == t
    with pytest.raises(GendiffError, match="cannot read the declared test"):
        Test.parse(">= 3")
    dec = {"tests": {"net_ratio": "< 0.5", "far": "> 2", "zero": "> 0"}}
    rec = {"stats": {"net_ratio": {"value": 0.48, "lo": 0.465, "hi": 0.4998, "method": "t"},  # holds by 0.04 %
                     "far": {"value": 3.0, "lo": 2.5, "hi": 3.5, "method": "t"},
                     "zero": {"value": 0.001, "lo": None, "hi": None, "method": "point value"}}}  # 0 has no scale
    assert knife_edges(dec, rec) == ["net_ratio"]
    assert knife_edges(dec, rec, tol=0.3) == ["net_ratio", "far"]
    assert knife_edges(dec, None) == []


def test_kinds_are_declared_and_counted_apart(tmp_path):
    from gendiff.study.ledger import counts_line, ledger_html, ledger_table

    c = Claims("01_linear_theory", "smoke", tmp_path)
    with pytest.raises(GendiffError, match="kind must be one of"):
        c.declare("x", "x", source="s", tests={"a": above(0)}, kind="finding")
    c.declare("000-a", "an identity", source="s", tests={"a": below(0.1)}, kind="verification")
    c.declare("000-b", "a finding", source="s", tests={"a": above(0.5)}, kind="reproduction")
    c.declare("000-c", "ours", source="s", tests={"a": above(0.5)})
    c.record("000-a", "tiny", a=1e-12)
    c.record("000-b", "near", a=Estimate(0.6, 0.502, 0.7))
    c.record("000-c", "no", a=0.1)
    c.finish()
    t = ledger_table(tmp_path, notebooks=["01_linear_theory"])
    assert list(t.kind) == ["verification", "reproduction", ""] and list(t.knife_edge) == ["", "a", ""]
    assert counts_line(t) == ("3 declared claims: 2 hold, 1 differ; by kind: 1 verification (1 hold); "
                              "1 reproduction (1 hold); 1 of no declared kind (1 differ); 1 on a knife edge "
                              "(an interval end within 1 % of its threshold)")
    html = ledger_html(tmp_path)
    assert 'class="verdict-differs" id="claim-000-c"' in html and "knife edge: a" in html


def test_over_seeds_is_declared_once_and_checked(tmp_path):
    import pandas as pd

    from gendiff.stats import per_group

    c = Claims("99_test", "smoke", tmp_path)
    c.declare("a", "x is large", source="s", tests={"x": above(0.5), "ref": above(0)}, statistic="x: the margin",
              over="seeds")
    assert c.declared["a"]["statistic"] == "x: the margin; mean and 95 % t-interval over seeds"
    with pytest.raises(GendiffError, match="declared over seeds, but 'x' is .*bootstrap"):
        c.record("a", "", x=Estimate.bootstrap(np.array([0.9, 1.0, 1.1])), ref=1.0)
    df = pd.DataFrame({"seed": [0, 0, 1, 1, 2, 2], "v": [2.3, 2.5, 2.4, 2.6, 2.5, 2.7]})
    e = per_group(df, lambda g: g.v.mean())
    assert e.value == pytest.approx(2.5) and e.basis == "t, 3 seeds"
    assert c.record("a", "", x=e, ref=1.0) == "holds"  # a point value may sit beside the interval


def test_figures_and_run_time_are_kept_with_the_results(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = Claims("99_test", "smoke", tmp_path)
    c.declare("a", "x", source="s", tests={"x": above(0)})
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    ax.set_title("RMSE to D_G vs sigma")
    assert [p.name for p in c.save_figures()] == ["01-rmse-to-d-g-vs-sigma.png"]
    assert c.save_figures() == []  # each figure once
    assert not c.figures_dir.exists()  # kept aside until the run finishes
    c.record("a", "", x=1.0)
    c.finish()
    plt.close(fig)
    assert [p.name for p in c.figures_dir.iterdir()] == ["01-rmse-to-d-g-vs-sigma.png"]
    assert json.loads(c.path.read_text())["numbers"]["runtime_s"] >= 0
    # a rerun that fails before finishing leaves the last good run's figures in place
    c2 = Claims("99_test", "smoke", tmp_path)
    fig2, ax2 = plt.subplots()
    ax2.plot([3, 1])
    c2.save_figures()
    plt.close(fig2)
    assert [p.name for p in c.figures_dir.iterdir()] == ["01-rmse-to-d-g-vs-sigma.png"]


def test_a_claim_that_holds_in_its_wrong_world_too_is_not_discriminating(tmp_path):
    from gendiff.study.ledger import ledger_table

    c = Claims("01_linear_theory", "smoke", tmp_path)
    c.declare("000-a", "the d-rule predicts N*", source="s", tests={"ratio": between(2 / 3, 1.5)},
              wrong_world="N* constant in d")
    c.declare("000-b", "the PR-rule predicts N*", source="s", tests={"ratio": between(2 / 3, 1.5)},
              wrong_world="N* constant in d")
    c.declare("000-c", "no wrong world named", source="s", tests={"ratio": between(2 / 3, 1.5)})
    with pytest.raises(GendiffError, match="names a wrong world .*record what its statistics read there"):
        c.record("000-a", "", ratio=1.0)
    with pytest.raises(GendiffError, match="declared no wrong world"):
        c.record("000-c", "", ratio=1.0, wrong_world={"ratio": 1.0})
    with pytest.raises(GendiffError, match="must map some of its statistics"):
        c.record("000-a", "", ratio=1.0, wrong_world={"other": 1.0})
    # the rival rule predicts within the band too: passing says nothing
    assert c.record("000-a", "", ratio=Estimate(0.93, 0.91, 0.95), wrong_world={"ratio": 1.1}) == "not discriminating"
    # the rival falls outside the band: a real check, and it holds
    assert c.record("000-b", "", ratio=Estimate(0.93, 0.91, 0.95), wrong_world={"ratio": 2.0}) == "holds"
    c.record("000-c", "", ratio=3.0)
    c.finish()
    t = ledger_table(tmp_path, notebooks=["01_linear_theory"]).set_index("id")
    assert t.loc["000-a", "verdict"] == "not discriminating"
    assert "in the wrong world (N* constant in d): ratio = 1.1 (would hold too)" in t.loc["000-a", "statistics"]
    assert "in the wrong world (N* constant in d): ratio = 2 (differs)" in t.loc["000-b", "statistics"]


def test_superseded_claim_stays_visible_and_is_counted_apart(tmp_path):
    """A claim whose statistic no longer decides it keeps its reading, shown as 'superseded' and counted apart."""
    from gendiff.study.ledger import counts_line, ledger_table
    c = Claims("01_linear_theory", "smoke", tmp_path)
    with pytest.raises(GendiffError, match="superseded_by must name another claim"):
        c.declare("000-a", "old", source="s", tests={"m": above(0.0)}, superseded_by="000-a")
    c.declare("000-a", "old", source="s", tests={"m": above(0.0)}, superseded_by="000-b")
    c.declare("000-b", "new", source="s", tests={"m": above(0.0)})
    assert c.record("000-a", "old reading", m=0.3) == "holds"  # the notebook still decides it on its statistic
    c.record("000-b", "new reading", m=-0.3)
    c.finish()
    t = ledger_table(tmp_path, notebooks=["01_linear_theory"]).set_index("id")
    assert t.loc["000-a", "verdict"] == "superseded" and t.loc["000-b", "verdict"] == "differs"
    assert t.loc["000-a", "ours"] == "superseded by 000-b; this statistic read 'holds': old reading"
    assert counts_line(t.reset_index()).startswith("2 declared claims: 1 differ, 1 superseded")


def test_superseded_by_an_undeclared_claim_is_an_error(tmp_path):
    from gendiff.study.ledger import ledger_table
    c = Claims("01_linear_theory", "smoke", tmp_path)
    c.declare("000-a", "old", source="s", tests={"m": above(0.0)}, superseded_by="000-typo")
    c.record("000-a", "", m=1.0)
    c.finish()
    with pytest.raises(GendiffError, match="superseded by '000-typo', which no notebook declares"):
        ledger_table(tmp_path, notebooks=["01_linear_theory"])

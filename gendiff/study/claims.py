"""Declared claims: a notebook states each claim, its statistics and their tests *before* it computes anything;
the library then decides the verdict from what is recorded.

    claims = Claims("03_linearity", profile, results_dir)
    claims.declare("001-linearity", "Linearity rises with N", source="Li et al. 2024, Fig. 1",
                   tests={"rise": above(0.0)}, paper="LS > 0.96", statistic="rise: worst-case LS, largest - smallest N",
                   differs="the score does not grow with N")
    ...                                        # compute
    claims.record("001-linearity", "0.74 -> 0.88", rise=Estimate.t_interval(per_seed_rise))

A statistic is a number or an ``Estimate`` (a value with a 95 % interval). Each test gives *holds* when the value
(its whole interval) is on the declared side, *differs* when it is (wholly) on the other side, and *inconclusive*
when the interval straddles the threshold. A claim holds when all its tests hold, differs when any differs, and is
inconclusive otherwise. A statistic that could not be measured (NaN or infinite, e.g. a crossing that never
happens in a short run) makes its test inconclusive. Recording an undeclared claim, declaring after a measurement,
or a missing or extra statistic each raise ``GendiffError``."""
from __future__ import annotations

import json
import math
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from .._checks import GendiffError
from ..stats import Estimate
from .io import atomic_write_text, results_dir as default_results_dir

HOLDS, DIFFERS, INCONCLUSIVE = "holds", "differs", "inconclusive"
# A claim whose tests would hold in its declared wrong world too: the statistic does not separate the two worlds,
# so passing it says nothing (e.g. rival rules that predict alike).
NOT_DISCRIMINATING = "not discriminating"
# What a claim is, so the ledger counts them apart: a check of an identity or a theorem (it cannot fail unless the
# code is wrong), a reproduction of a paper's empirical finding, or our own extension beyond the papers.
KINDS = ("verification", "reproduction", "extension")
# A claim whose statistic was found not to decide it, kept (and still computed) so its old reading stays visible
# beside the claim that now decides it; the ledger counts it apart and not among the verdicts.
SUPERSEDED = "superseded"
KNIFE_EDGE = 0.01  # an interval end within 1 % of its threshold: the verdict could flip with a little more noise


def as_estimate(name: str, v) -> Estimate | None:
    """An Estimate, or None for a statistic that could not be measured (NaN or infinite)."""
    if isinstance(v, Estimate):
        return v
    if isinstance(v, (bool, str)) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
        raise GendiffError(f"statistic {name!r} must be a number or an Estimate, got {v!r}")
    return Estimate(float(v)) if math.isfinite(float(v)) else None


@dataclass(frozen=True)
class Test:
    """The declared side of a threshold: value > lo ('above'), value < hi ('below'), or lo < value < hi."""

    lo: float | None = None
    hi: float | None = None

    def __post_init__(self):
        if self.lo is None and self.hi is None:
            raise GendiffError("a test needs a lower or an upper threshold")
        if self.lo is not None and self.hi is not None and not self.lo < self.hi:
            raise GendiffError(f"between({self.lo}, {self.hi}): the lower threshold must be below the upper")

    def decide(self, e: Estimate) -> str:
        lo = e.value if e.lo is None else e.lo
        hi = e.value if e.hi is None else e.hi
        inside_lo = self.lo is None or lo > self.lo
        inside_hi = self.hi is None or hi < self.hi
        if inside_lo and inside_hi:
            return HOLDS
        outside = (self.lo is not None and hi <= self.lo) or (self.hi is not None and lo >= self.hi)
        return DIFFERS if outside else INCONCLUSIVE

    @classmethod
    def parse(cls, text: str) -> "Test":
        """The Test that ``str(test)`` wrote: '> 0.5', '< 0.1' or 'in (0.5, 1.5)' (as results files store them)."""
        t = text.strip()
        m = re.fullmatch(r"in \(([^,]+), ([^)]+)\)", t)
        if m:
            return cls(float(m[1]), float(m[2]))
        if t[:2] in ("> ", "< "):
            return cls(lo=float(t[2:])) if t[0] == ">" else cls(hi=float(t[2:]))
        raise GendiffError(f"cannot read the declared test {text!r}")

    def margin(self, e: Estimate) -> float:
        """How far the interval's nearest end lies from the nearest non-zero threshold, relative to that threshold:
        small means a little more noise could flip the verdict. A threshold of 0 has no scale (inf)."""
        ends = [e.value] if e.lo is None else [e.lo, e.hi]
        return min((abs(x - t) / abs(t) for t in (self.lo, self.hi) if t for x in ends), default=math.inf)

    def __str__(self):
        if self.hi is None:
            return f"> {self.lo:g}"
        if self.lo is None:
            return f"< {self.hi:g}"
        return f"in ({self.lo:g}, {self.hi:g})"


def above(threshold: float) -> Test:
    return Test(lo=float(threshold))


def below(threshold: float) -> Test:
    return Test(hi=float(threshold))


def between(lo: float, hi: float) -> Test:
    return Test(lo=float(lo), hi=float(hi))


def combine(verdicts) -> str:
    verdicts = list(verdicts)
    if DIFFERS in verdicts:
        return DIFFERS
    return INCONCLUSIVE if INCONCLUSIVE in verdicts else HOLDS


class Claims:
    """One notebook's declared claims, recorded statistics, verdicts and numbers. While the notebook runs they are
    saved after every change to ``<results_dir>/<notebook>.json.partial``; ``finish()`` renames that file to
    ``<notebook>.json`` in one step. So a rerun that fails keeps the last good results, and the ledger says that a
    later run failed. ``results_dir`` defaults to runs/<profile>/results."""

    def __init__(self, notebook: str, profile: str, results_dir: str | Path | None = None):
        import time

        self.notebook, self.profile = notebook, profile
        self.dir = Path(results_dir) if results_dir else default_results_dir(profile)
        self.declared: dict[str, dict] = {}
        self.recorded: dict[str, dict] = {}
        self.numbers: dict = {}
        self._measured = False
        self._start, self._n_figures = time.time(), 0
        shutil.rmtree(self._figures_partial, ignore_errors=True)
        self.save()
        _save_figures_after_each_cell(self)

    @property
    def figures_dir(self) -> Path:
        """Every figure of the last run that finished, as PNG: <results_dir>/figures/<notebook>/NN-<title>.png."""
        return self.dir / "figures" / self.notebook

    @property
    def _figures_partial(self) -> Path:
        return self.dir / "figures" / f"{self.notebook}{PARTIAL}"

    def save_figures(self) -> list[Path]:
        """Save every open matplotlib figure not saved yet (called after each notebook cell; call it yourself outside
        IPython). Files are numbered in order and named after the figure's title."""
        import matplotlib.pyplot as plt

        from ..files import atomic_write

        out = []
        for num in plt.get_fignums():
            fig = plt.figure(num)
            if getattr(fig, "_gendiff_saved", False) or not fig.axes:
                continue
            self._n_figures += 1
            title = fig._suptitle.get_text() if fig._suptitle else fig.axes[0].get_title()
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
            path = self._figures_partial / f"{self._n_figures:02d}{'-' + slug if slug else ''}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda tmp, f=fig: f.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))
            fig._gendiff_saved = True
            out.append(path)
        return out

    @property
    def path(self) -> Path:
        """The results of the last run that finished."""
        return self.dir / f"{self.notebook}.json"

    @property
    def partial_path(self) -> Path:
        """The results of this run while it is under way (renamed to ``path`` by ``finish``)."""
        return self.dir / f"{self.notebook}.json{PARTIAL}"

    def declare(self, id: str, claim: str, *, source: str, tests: dict[str, Test], paper: str = "",
                statistic: str = "", differs: str = "", explains: str | tuple | list = (),
                kind: str | None = None, over: str | None = None, wrong_world: str = "",
                superseded_by: str = "") -> None:
        """Declare a claim before any measurement: its statement, where the paper makes it, the paper's value,
        the statistics (name -> Test) that decide it and what a 'differs' verdict would mean. ``explains``: the ids
        of claims (in any notebook) whose explanation this claim tests; the ledger shows it, with its verdict, on
        their rows. ``kind``: one of KINDS (verification of an identity or theorem / reproduction of a paper's
        finding / our extension), counted apart in the ledger. ``over="seeds"``: every statistic of the claim is a
        mean with its 95 % t-interval over that replicate (the statistic's description says so, and ``record``
        refuses an Estimate that is not). ``wrong_world``: the plausible world in which the claim is false (e.g. "a
        constant N*"); ``record`` then needs what the statistics read there, and a claim whose tests hold in both
        worlds is recorded as 'not discriminating', not 'holds'. ``superseded_by``: the id of the claim that now
        decides this one on a better statistic; this row is still computed and shown with what it reads, as
        'superseded', and counted apart."""
        if self._measured:
            raise GendiffError(f"claim {id!r} declared after a measurement was recorded in {self.notebook}: "
                               "declare every claim before computing anything")
        if id in self.declared:
            raise GendiffError(f"claim {id!r} is declared twice in {self.notebook}")
        if not isinstance(tests, dict) or not tests or not all(isinstance(t, Test) for t in tests.values()):
            raise GendiffError(f"claim {id!r}: tests must map each statistic's name to a Test (above/below/between)")
        if kind is not None and kind not in KINDS:
            raise GendiffError(f"claim {id!r}: kind must be one of {KINDS}, got {kind!r}")
        explains = [explains] if isinstance(explains, str) else list(explains)
        if not all(isinstance(e, str) and e and e != id for e in explains):
            raise GendiffError(f"claim {id!r}: explains must name other claims by id, got {explains!r}")
        if not isinstance(superseded_by, str) or superseded_by == id:
            raise GendiffError(f"claim {id!r}: superseded_by must name another claim by id, got {superseded_by!r}")
        if over is not None and (not isinstance(over, str) or not over):
            raise GendiffError(f"claim {id!r}: over must name the replicates, e.g. 'seeds', got {over!r}")
        if over:
            statistic = f"{statistic}; mean and 95 % t-interval over {over}" if statistic else \
                f"mean and 95 % t-interval over {over}"
        self.declared[id] = dict(id=id, claim=claim, source=source, paper=paper, statistic=statistic,
                                 differs=differs, tests={k: str(t) for k, t in tests.items()}, explains=explains,
                                 **({"kind": kind} if kind else {}), **({"over": over} if over else {}),
                                 **({"wrong_world": wrong_world} if wrong_world else {}),
                                 **({"superseded_by": superseded_by} if superseded_by else {}))
        self._tests = getattr(self, "_tests", {})
        self._tests[id] = tests
        self.save()

    def record(self, id: str, ours: str, *, wrong_world: dict | None = None, **stats) -> str:
        """Record the statistics of a declared claim (and a sentence saying what we found); returns the verdict.
        ``wrong_world`` {statistic: value} (for a claim declared with one): what the statistics read in the declared
        wrong world (those not given read as measured); if every test holds there too, the verdict is 'not
        discriminating'."""
        est, per = self._tested(id, stats)
        tests = self._tests[id]
        over = self.declared[id].get("over")
        if over:  # an interval must be the t-interval over the declared replicates (a point value may sit beside it)
            bad = [k for k, e in est.items() if e is not None and e.lo is not None
                   and not re.search(rf"t-interval over \d+ {re.escape(over)}\b", e.method)]
            if bad:
                raise GendiffError(f"claim {id!r} is declared over {over}, but {bad[0]!r} is {est[bad[0]].method!r}: "
                                   f"use Estimate.t_interval(one value per {over.rstrip('s')})")
        named = self.declared[id].get("wrong_world")
        if named and not wrong_world:
            raise GendiffError(f"claim {id!r} names a wrong world ({named}): record what its statistics read there, "
                               f"wrong_world={{statistic: value}}")
        if wrong_world and not named:
            raise GendiffError(f"claim {id!r} declared no wrong world: name it in declare(wrong_world=...) before "
                               "computing anything")
        if wrong_world and (not isinstance(wrong_world, dict) or set(wrong_world) - set(tests)):
            raise GendiffError(f"claim {id!r}: wrong_world must map some of its statistics {sorted(tests)} to values")
        self._measured = True
        self.recorded[id] = dict(ours=ours, stats={k: e and asdict(e) for k, e in est.items()}, tests=per,
                                 verdict=combine(per.values()))
        if wrong_world:
            west = {k: as_estimate(f"{id}.{k} (wrong world)", v) for k, v in wrong_world.items()}
            wper = {k: per[k] if k not in west else INCONCLUSIVE if west[k] is None else tests[k].decide(west[k])
                    for k in tests}
            self.recorded[id]["wrong_world"] = {k: e and asdict(e) for k, e in west.items()}
            self.recorded[id]["wrong_world_verdict"] = combine(wper.values())
            if self.recorded[id]["verdict"] == HOLDS and combine(wper.values()) == HOLDS:
                self.recorded[id]["verdict"] = NOT_DISCRIMINATING
        self.save()
        return self.recorded[id]["verdict"]

    def _tested(self, id: str, stats: dict) -> tuple[dict, dict]:
        """The statistics of a declared claim as Estimates, and each one's verdict under its declared test."""
        if id not in self.declared:
            raise GendiffError(f"claim {id!r} was not declared in {self.notebook}; declared: "
                               f"{', '.join(self.declared) or 'none'}")
        tests = self._tests[id]
        if set(stats) != set(tests):
            raise GendiffError(f"claim {id!r} declares statistics {sorted(tests)}, got {sorted(stats)}")
        est = {k: as_estimate(f"{id}.{k}", v) for k, v in stats.items()}
        return est, {k: INCONCLUSIVE if e is None else tests[k].decide(e) for k, e in est.items()}

    def decide(self, id: str, **stats) -> str:
        """What the declared tests of ``id`` say of these statistics, without recording them: e.g. the verdict an
        interval from one source of variation alone would give, beside the recorded one."""
        return combine(self._tested(id, stats)[1].values())

    def number(self, key: str, value) -> None:
        """Record a number for sweeps and the ledger (not a verdict)."""
        self._measured = True
        self.numbers[key] = value
        self.save()

    def verdict(self, id: str) -> str:
        return self.recorded[id]["verdict"]

    def missing(self) -> list[str]:
        return [i for i in self.declared if i not in self.recorded]

    def finish(self):
        """Raise if a declared claim has no recorded statistics; else a table of this notebook's verdicts."""
        if self.missing():
            raise GendiffError(f"{self.notebook}: declared but not recorded: {', '.join(self.missing())}")
        import os
        import time

        self.numbers.setdefault("runtime_s", time.time() - self._start)
        self.numbers["complete"] = True
        self.save_figures()
        self.save()
        if self._figures_partial.is_dir():  # this run's figures replace the last good run's
            shutil.rmtree(self.figures_dir, ignore_errors=True)
            os.replace(self._figures_partial, self.figures_dir)
        os.replace(self.partial_path, self.path)  # the one step that makes this run's results the good ones
        return self.table()

    def rows(self) -> list[dict]:
        return claim_rows({"notebook": self.notebook, "declared": list(self.declared.values()),
                           "recorded": self.recorded})

    def table(self):
        import pandas as pd

        return pd.DataFrame(self.rows())[["id", "test", "ours", "statistics", "verdict"]]

    def save(self) -> None:
        d = dict(notebook=self.notebook, profile=self.profile, declared=list(self.declared.values()),
                 recorded=self.recorded, numbers=self.numbers)
        atomic_write_text(self.partial_path, json.dumps(d, indent=1, default=_jsonable))


_CURRENT: list = [None]  # the newest Claims of this process: the one whose figures are being saved


def _save_figures_after_each_cell(claims: Claims) -> None:
    """In IPython, save the figures a cell drew right after it runs, before the inline backend closes them (the
    callback goes first), and those ``plt.show()`` shows (and closes) mid-cell; following the newest Claims."""
    _CURRENT[0] = claims
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return
    import matplotlib.pyplot as plt

    if not getattr(plt.show, "_gendiff", False):
        shown = plt.show

        def show(*args, **kwargs):
            if _CURRENT[0] is not None:
                _CURRENT[0].save_figures()
            return shown(*args, **kwargs)

        show._gendiff = True
        plt.show = show
    cbs = ip.events.callbacks["post_execute"]
    for cb in [c for c in cbs if getattr(c, "_gendiff", False)]:
        cbs.remove(cb)

    def cb():
        if _CURRENT[0] is not None:
            _CURRENT[0].save_figures()

    cb._gendiff = True
    cbs.insert(0, cb)


def _jsonable(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return v.tolist() if hasattr(v, "tolist") else str(v)


def knife_edges(dec: dict, rec: dict | None, tol: float = KNIFE_EDGE) -> list[str]:
    """The statistics of a recorded claim whose interval end (or value) lies within ``tol`` of its threshold."""
    if not rec:
        return []
    return [k for k, t in dec["tests"].items()
            if rec["stats"].get(k) and Test.parse(t).margin(Estimate(**rec["stats"][k])) < tol]


def claim_rows(result: dict) -> list[dict]:
    """One row per declared claim of a results file: statement, kind, declared test, ours, statistics, verdict and
    the statistics on a knife edge."""
    rows = []
    note = f"({result['rerun']}) " if result.get("rerun") else ""
    for dec in result.get("declared", []):
        rec = result.get("recorded", {}).get(dec["id"])
        stats = "; ".join(f"{k} = {Estimate(**v) if v else 'not measured'}" for k, v in rec["stats"].items()) \
            if rec else ""
        if rec and rec.get("wrong_world"):
            stats += f"; in the wrong world ({dec.get('wrong_world', '')}): " + "; ".join(
                f"{k} = {Estimate(**v) if v else 'not measured'}" for k, v in rec["wrong_world"].items()) + \
                f" ({'would hold too' if rec['wrong_world_verdict'] == HOLDS else rec['wrong_world_verdict']})"
        verdict, ours = (rec["verdict"], rec["ours"]) if rec else ("not recorded", "")
        if rec and dec.get("superseded_by"):
            ours = f"superseded by {dec['superseded_by']}; this statistic read '{verdict}': {ours}"
            verdict = SUPERSEDED
        rows.append(dict(id=dec["id"], source=dec["source"], claim=dec["claim"], paper=dec["paper"],
                         test="; ".join(f"{k} {t}" for k, t in dec["tests"].items()), differs=dec["differs"],
                         ours=note + ours, statistics=stats, verdict=verdict,
                         superseded_by=dec.get("superseded_by", ""), notebook=result.get("notebook", ""),
                         explains=list(dec.get("explains", [])), kind=dec.get("kind", ""),
                         knife_edge=", ".join(knife_edges(dec, rec))))
    return rows


PARTIAL = ".partial"  # suffix of the results file of a run under way (or one that failed)


def _read(p: Path) -> dict:
    try:
        return json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise GendiffError(f"results file {p} is not valid JSON ({e.msg if hasattr(e, 'msg') else e}): "
                           "rerun its notebook") from None


def load_results(directory) -> dict[str, dict]:
    """Every notebook's results in a folder, {notebook: content}; a file that cannot be read is named in the error.
    The content is that of the last run that finished (``<notebook>.json``). Where a later run left an unfinished
    ``.json.partial`` (it failed, or is still running), ``content["rerun"]`` says so and when it started; a notebook
    with no finished run at all shows its unfinished results, with ``content["unfinished"] = True``."""
    import datetime as dt

    out = {}
    directory = Path(directory)
    for p in sorted(directory.glob(f"*.json{PARTIAL}")):
        name = p.name[: -len(f".json{PARTIAL}")]
        if not (directory / f"{name}.json").exists():
            out[name] = {**_read(p), "unfinished": True}
    for p in sorted(directory.glob("*.json")):
        out[p.stem] = _read(p)
        partial = directory / f"{p.name}{PARTIAL}"
        if partial.exists():
            when = dt.datetime.fromtimestamp(partial.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
            out[p.stem]["rerun"] = f"last good run shown; a later run (last written {when}) failed or is unfinished"
    return dict(sorted(out.items()))


def say(text: str):
    """Show a Markdown sentence built from measured values (numbers are rendered, never typed into prose)."""
    from IPython.display import Markdown, display

    display(Markdown(text))

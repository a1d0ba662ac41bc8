"""Statistics with their uncertainty: ``Estimate``, a value with its 95 % interval and how it was made (a t-interval
over seeds, an OLS prediction interval, a percentile bootstrap). The study's verdicts are decided on these."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ._checks import GendiffError


@dataclass(frozen=True)
class Estimate:
    """A statistic with its 95 % interval [lo, hi] (None when there is no interval) and how it was made."""

    value: float
    lo: float | None = None
    hi: float | None = None
    method: str = "point value"

    def __post_init__(self):
        for k in ("value", "lo", "hi"):
            v = getattr(self, k)
            if v is not None and not math.isfinite(float(v)):
                raise GendiffError(f"Estimate.{k} must be finite, got {v!r}")
            if v is not None:
                object.__setattr__(self, k, float(v))
        if (self.lo is None) != (self.hi is None):
            raise GendiffError("Estimate needs both lo and hi, or neither")
        if self.lo is not None and not self.lo <= self.value <= self.hi:
            raise GendiffError(f"Estimate interval [{self.lo}, {self.hi}] does not contain its value {self.value}")

    def clipped(self, bounds: tuple[float, float] | None) -> "Estimate":
        """The same estimate with its interval cut to ``bounds`` (a share's [0, 1]): a share cannot exceed 1, so
        an interval running past it says nothing more; the method says it was cut."""
        if bounds is None or self.lo is None or (self.lo >= bounds[0] and self.hi <= bounds[1]):
            return self
        lo, hi = max(self.lo, bounds[0]), min(self.hi, bounds[1])
        return Estimate(self.value, min(lo, self.value), max(hi, self.value),
                        f"{self.method}, cut to [{bounds[0]:g}, {bounds[1]:g}]")

    @classmethod
    def t_interval(cls, samples, level: float = 0.95, over: str = "seeds",
                   bounds: tuple[float, float] | None = None) -> "Estimate":
        """Mean and Student-t interval of independent replicates (seeds); one replicate gives no interval.
        ``bounds``: the range the statistic cannot leave (``(0, 1)`` for a share): the interval is cut to it."""
        import numpy as np
        from scipy import stats

        x = np.asarray(samples, dtype=float).reshape(-1)
        if x.size == 0 or not np.all(np.isfinite(x)):
            raise GendiffError(f"t_interval needs finite samples, got {x.tolist()}")
        m = float(x.mean())
        if x.size == 1:
            return cls(m, method=f"single value (1 {over.rstrip('s')})")
        h = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
        if bounds is not None and not bounds[0] <= m <= bounds[1]:
            raise GendiffError(f"t_interval: the mean {m:g} lies outside bounds {bounds}")
        return cls(m, m - h, m + h, method=f"mean, {level:.0%} t-interval over {x.size} {over}").clipped(bounds)

    @classmethod
    def ols_prediction(cls, x, y, x_new: float, level: float = 0.95, over: str = "points") -> "Estimate":
        """The least-squares line of y on x, evaluated at x_new, with its Student-t *prediction* interval for one new
        observation there: y_hat +- t(n - 2) s sqrt(1 + 1/n + (x_new - mean x)^2 / Sxx), s^2 the residual variance
        on n - 2 degrees of freedom (e.g. Montgomery & Runger, Applied Statistics, eq. 11-33)."""
        import numpy as np
        from scipy import stats

        x, y = np.asarray(x, dtype=float).reshape(-1), np.asarray(y, dtype=float).reshape(-1)
        if x.size != y.size or x.size < 3 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise GendiffError(f"ols_prediction needs >= 3 finite (x, y) pairs of equal length, got {x.size} and {y.size}")
        sxx = float(((x - x.mean()) ** 2).sum())
        if sxx == 0:
            raise GendiffError("ols_prediction needs at least two distinct x")
        b = float(((x - x.mean()) * (y - y.mean())).sum()) / sxx
        a = float(y.mean()) - b * float(x.mean())
        s = math.sqrt(float(((y - a - b * x) ** 2).sum()) / (x.size - 2))
        v = a + b * float(x_new)
        h = float(stats.t.ppf(0.5 + level / 2, x.size - 2)) * s * math.sqrt(1 + 1 / x.size + (x_new - x.mean()) ** 2 / sxx)
        return cls(v, v - h, v + h, method=f"least-squares line, {level:.0%} prediction interval over {x.size} {over}")

    @classmethod
    def bootstrap(cls, samples, stat=None, level: float = 0.95, n_boot: int = 2000, seed: int = 0,
                  over: str = "inputs", bounds: tuple[float, float] | None = None) -> "Estimate":
        """``stat`` (default: the mean) and its percentile-bootstrap interval over the rows of ``samples``
        (``bounds`` as in ``t_interval``; a percentile interval of a share stays inside [0, 1] anyway)."""
        import numpy as np

        x = np.asarray(samples, dtype=float)
        if x.shape[0] < 2 or not np.all(np.isfinite(x)):
            raise GendiffError(f"bootstrap needs >= 2 finite rows, got shape {x.shape}")
        stat = stat or (lambda a: float(a.mean()))
        rng = np.random.default_rng(seed)
        boots = [stat(x[rng.integers(0, x.shape[0], x.shape[0])]) for _ in range(n_boot)]
        lo, hi = np.quantile(boots, [0.5 - level / 2, 0.5 + level / 2])
        v = stat(x)
        return cls(v, min(float(lo), v), max(float(hi), v),
                   method=f"{level:.0%} percentile bootstrap over {x.shape[0]} {over}").clipped(bounds)

    @classmethod
    def extreme(cls, estimates, which: str = "max", over: str = "nets") -> "Estimate":
        """The largest (``which="max"``) or smallest value of several estimates (a worst case over nets), with the
        interval from the largest (smallest) lower end to the largest (smallest) upper end: the extreme of the true
        values lies there whenever every interval covers its own, since max and min are monotone in each argument.
        A point value (no interval) counts as exact, and the method says so."""
        from ._checks import check_choice

        check_choice("which", which, ("max", "min"))
        es = [e if isinstance(e, Estimate) else Estimate(float(e)) for e in estimates]
        if not es:
            raise GendiffError("Estimate.extreme needs at least one estimate")
        f = max if which == "max" else min
        v = f(e.value for e in es)
        with_iv = [e for e in es if e.lo is not None]
        if not with_iv:
            return cls(v, method=f"{which} over {len(es)} {over}, point values")
        lo = f(e.value if e.lo is None else e.lo for e in es)
        hi = f(e.value if e.hi is None else e.hi for e in es)
        bases = sorted({e.basis for e in with_iv})
        return cls(v, lo, hi, method=f"{which} over {len(es)} {over}: ends of the {len(with_iv)} interval(s) "
                                     f"({'; '.join(bases)}), the others point values")

    @classmethod
    def hull(cls, estimates) -> "Estimate":
        """One quantity measured with intervals over different sources of variation (a t-interval over training
        seeds, a bootstrap over evaluation inputs): the first's value, with the interval from the lowest lower end to
        the highest upper end, so it covers the quantity whenever either interval does. Point values add nothing."""
        es = [e if isinstance(e, Estimate) else Estimate(float(e)) for e in estimates]
        if not es:
            raise GendiffError("Estimate.hull needs at least one estimate")
        with_iv = [e for e in es if e.lo is not None]
        if not with_iv:
            return es[0]
        method = with_iv[0].method if len(with_iv) == 1 else "hull of the intervals: " + " & ".join(
            e.basis for e in with_iv)
        return cls(es[0].value, min(es[0].value, *(e.lo for e in with_iv)), max(es[0].value, *(e.hi for e in with_iv)),
                   method=method)

    @property
    def basis(self) -> str:
        """What the interval is over, for a table: 't, 3 seeds', 'bootstrap, 32 inputs', '1 seed' or ''."""
        import re

        if self.method.startswith("hull of the intervals: "):
            return "hull of " + self.method[len("hull of the intervals: "):]

        m = re.match(r"(max|min) over (\d+) (\w+)", self.method)
        if m:
            inner = re.search(r"\(([^()]*)\), the others", self.method)
            return f"{m[1]} of {m[2]} {m[3]}" + (f" ({inner[1]})" if inner else "")
        m = re.search(r"over (\d+) (\w+)", self.method)
        if m:
            kind = "bootstrap" if "bootstrap" in self.method else "prediction" if "prediction" in self.method else "t"
            cut = re.search(r"cut to (\[[^]]*\])", self.method)
            return f"{kind}, {m[1]} {m[2]}" + (f", cut to {cut[1]}" if cut else "")
        m = re.search(r"\(1 (\w+)\)", self.method)
        return f"1 {m[1]}" if m else ""

    def __str__(self):
        s = f"{self.value:.4g}" if self.lo is None else f"{self.value:.4g} [{self.lo:.4g}, {self.hi:.4g}]"
        return f"{s} ({self.basis})" if self.basis else s


def per_group(frame, f, by: str = "seed", bounds: tuple[float, float] | None = None) -> Estimate:
    """``f`` (rows of one group -> a number) for each group of ``frame`` by column ``by``, and the mean with its 95 %
    t-interval over the groups: the study's 'compute per training seed, decide on the interval over seeds'."""
    values = [f(g) for _, g in frame.groupby(by)]
    return Estimate.t_interval(values, over=f"{by}s", bounds=bounds)

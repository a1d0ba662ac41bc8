"""Input validation: one clear error, naming the parameter, before any work is done."""
from __future__ import annotations

import math
from numbers import Integral, Real


class GendiffError(ValueError):
    """A bad parameter or input; the message names the parameter and what was expected."""


class GendiffWarning(UserWarning):
    """Something was repaired or skipped on the way (a bad checkpoint set aside, say): the work goes on, and says so."""


def check_positive(name: str, value, *, allow_zero: bool = False):
    """Every element of ``value`` (a number or a sequence/tensor of numbers) must be > 0 (>= 0)."""
    if hasattr(value, "detach"):  # a tensor
        vals = value.detach().reshape(-1).tolist()
    elif hasattr(value, "__iter__") and not isinstance(value, str):
        vals = list(value)
    else:
        vals = [value]
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, Real) or math.isnan(v):
            raise GendiffError(f"{name} must be a number, got {v!r}")
        if math.isinf(v):
            raise GendiffError(f"{name} must be finite, got {v!r}")
        if v < 0 or (v == 0 and not allow_zero):
            rel = ">= 0" if allow_zero else "> 0"
            raise GendiffError(f"{name} must be {rel}, got {v!r}")
    return value


def check_int(name: str, value, *, low: int | None = None, high: int | None = None):
    """``value`` must be an integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise GendiffError(f"{name} must be an integer, got {value!r}")
    if low is not None and value < low:
        raise GendiffError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise GendiffError(f"{name}={value} is larger than the maximum {high}")
    return int(value)


def check_choice(name: str, value, choices):
    if value not in choices:
        raise GendiffError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value

"""The study's machinery, apart from the science: declared claims and their verdicts (``claims``), declared
notebook parameters (``params``), papermill execution and sweeps (``runner``), the claims ledger (``ledger``),
notebook helpers (``helpers``), the command line (``cli``) and write-then-rename (``io``)."""
from .claims import Claims, Estimate, above, below, between, say

__all__ = ["Claims", "Estimate", "above", "below", "between", "say"]

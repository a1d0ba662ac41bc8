"""The study's machinery, apart from the science: declared claims and their verdicts (``claims``), declared
notebook parameters (``params``), the notebooks (``notebooks``), papermill execution (``execute``), sweeps
(``sweep``), Dask (``cluster``; ``runner`` gathers these four), the net plan (``plan``), the claims ledger
(``ledger``), the site (``site``), the command line (``cli``) and project paths (``io``)."""
from .claims import Claims, Estimate, above, below, between, say

__all__ = ["Claims", "Estimate", "above", "below", "between", "say"]

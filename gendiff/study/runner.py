"""The study's runner, by concern: the notebooks and their parameters (``notebooks``), executing them (``execute``),
sweeps (``sweep``) and Dask (``cluster``). This module gathers their public names, as ``python -m gendiff`` and
earlier code use them: ``runner.run``, ``runner.sweep``, ``runner.prepare`` ..."""
from __future__ import annotations

from .cluster import check_workers, dask_client, map_tasks
from .execute import check_device, check_writable, execute, run, strip_progress
from .notebooks import (INDEX, all_notebooks, notebook_parameters, notebooks_dir, prepare, read_notebook, resolve,
                        resolve_data_path)
from .params import PROFILES, load_profile
from .sweep import code_digest, collect_sweep, identity_change, point_id, point_identity, sweep

__all__ = ["INDEX", "PROFILES", "all_notebooks", "check_device", "check_workers", "check_writable", "code_digest",
           "collect_sweep", "dask_client", "execute", "identity_change", "load_profile", "map_tasks", "notebook_parameters",
           "notebooks_dir", "point_id", "point_identity", "prepare", "read_notebook", "resolve", "resolve_data_path",
           "run", "strip_progress", "sweep"]

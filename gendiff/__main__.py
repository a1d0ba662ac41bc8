"""Command line: python -m gendiff {run, sweep, list, params}."""
from __future__ import annotations

import argparse
import sys

import yaml

from ._checks import GendiffError


def _kv(s: str):
    if "=" not in s:
        raise argparse.ArgumentTypeError(f"--set expects key=value, got {s!r}")
    k, v = s.split("=", 1)
    return k.strip(), yaml.safe_load(v)


def _grid(s: str):
    k, v = _kv(s)
    vals = [yaml.safe_load(x) for x in str(s.split("=", 1)[1]).split(",")]
    return k, vals


def main(argv=None) -> int:
    from . import runner

    ap = argparse.ArgumentParser(prog="python -m gendiff", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="execute notebooks with papermill into runs/<profile>/")
    r.add_argument("notebooks", nargs="*", help="names or numbers (default: all; 00_index runs last)")
    r.add_argument("-p", "--profile", default="default", choices=runner.PROFILES)
    r.add_argument("--set", dest="overrides", action="append", type=_kv, default=[], metavar="KEY=VALUE",
                   help="override a parameter (YAML value), validated like the profile's")
    r.add_argument("--out", default=None, help="output folder (default runs/<profile>)")
    r.add_argument("--refresh", action="store_true", help="also rewrite the committed notebooks/*.ipynb (default profile)")
    r.add_argument("--no-progress", action="store_true")
    r.add_argument("--prepare-only", action="store_true",
                   help="write the parameterised notebooks without executing them (for pytest --nbval-lax)")
    sw = sub.add_parser("sweep", help="run one notebook over a parameter grid into runs/<profile>/<notebook>/<point>/")
    sw.add_argument("notebook")
    sw.add_argument("--grid", action="append", type=_grid, default=[], metavar="KEY=V1,V2,...",
                    help="a parameter and its values (YAML scalars); several --grid give their product")
    sw.add_argument("-p", "--profile", default="default", choices=runner.PROFILES)
    sw.add_argument("--set", dest="overrides", action="append", type=_kv, default=[], metavar="KEY=VALUE")
    sw.add_argument("--no-progress", action="store_true")
    sub.add_parser("list", help="list the notebooks")
    p = sub.add_parser("params", help="show a notebook's parameters and a profile's values")
    p.add_argument("notebook")
    p.add_argument("-p", "--profile", default="default", choices=runner.PROFILES)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "list":
            print("\n".join(runner.all_notebooks()))
        elif a.cmd == "params":
            name = runner.resolve(a.notebook)
            defaults = runner.notebook_parameters(runner.read_notebook(name))
            prof = {**runner.load_profile(a.profile, name), **({"profile": a.profile} if "profile" in defaults else {})}
            for k, v in defaults.items():
                print(f"{k:24s} default={v!r:30s} {a.profile}={prof.get(k, v)!r}")
        elif a.cmd == "sweep":
            print(runner.sweep(a.notebook, dict(a.grid), a.profile, overrides=dict(a.overrides),
                               progress=not a.no_progress))
        else:
            out = runner.run(a.notebooks or None, a.profile, overrides=dict(a.overrides), out_dir=a.out,
                             refresh=a.refresh, progress=not a.no_progress, prepare_only=a.prepare_only)
            print("\n".join(str(p) for p in out))
    except GendiffError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

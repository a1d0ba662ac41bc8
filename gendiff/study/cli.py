"""Command line: python -m gendiff {run, sweep, list, params, ledger, site, data}."""
from __future__ import annotations

import argparse
import os
import sys

import yaml

from .._checks import GendiffError


def _kv(s: str):
    if "=" not in s:
        raise argparse.ArgumentTypeError(f"--set expects key=value, got {s!r}")
    k, v = s.split("=", 1)
    return k.strip(), _yaml(k, v)


def _yaml(k: str, v: str):
    try:
        return yaml.safe_load(v)
    except yaml.YAMLError as e:
        raise argparse.ArgumentTypeError(f"value of {k.strip()!r} is not valid YAML ({v!r}): "
                                         f"{str(e).splitlines()[0]}") from None


def _grid(s: str):
    k, _ = _kv(s)
    return k, [_yaml(k, x) for x in str(s.split("=", 1)[1]).split(",")]


def _positive_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"expects an integer >= 1, got {s!r}")
    return v


def _cluster_args(p, what: str) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help=f"run the {what} on a local Dask cluster of N worker processes (default: one after another)")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help=f"run the {what} on an existing Dask cluster: tcp://host:8786 or a scheduler JSON file "
                        "(dask-jobqueue on SLURM, dask-kubernetes, ...); workers share this checkout and its cache")


def _print_plan(t, profile: str, ref) -> None:
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_rows", None):
        print(t.drop(columns=["key"]).to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    todo = t[~t.cached]
    fixed, adaptive = todo[~todo.adaptive], todo[todo.adaptive]
    print(f"\n{profile}: {len(t)} distinct nets ({int(t.adaptive.sum())} adaptive), {int(t.cached.sum())} cached")
    if ref is not None:
        print(f"to train: {len(fixed)} nets, {fixed.minutes.sum():.0f} min, and up to {len(adaptive)} adaptive nets, "
              f"{adaptive.minutes.sum():.0f} min, one after another at c = 16 (16 px) {ref:.0f} img/s now")


def main(argv=None) -> int:
    from . import ledger, params, runner

    ap = argparse.ArgumentParser(prog="gendiff", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="execute notebooks with papermill into runs/<profile>/")
    r.add_argument("notebooks", nargs="*", help="names or numbers (default: all; 00_index runs last)")
    r.add_argument("-p", "--profile", default="default", choices=runner.PROFILES)
    r.add_argument("--set", dest="overrides", action="append", type=_kv, default=[], metavar="KEY=VALUE",
                   help="override a parameter (YAML value), validated like the profile's")
    r.add_argument("--out", default=None, help="output folder (default runs/<profile>)")
    r.add_argument("--results", default=None, help="folder of the results JSONs (default runs/<profile>/results)")
    r.add_argument("--refresh", action="store_true", help="also rewrite the committed notebooks/*.ipynb (default profile)")
    r.add_argument("--no-progress", action="store_true")
    r.add_argument("--prepare-only", action="store_true",
                   help="write the parameterised notebooks without executing them (for pytest --nbval-lax)")
    _cluster_args(r, "notebooks")
    sw = sub.add_parser("sweep", help="run one notebook over a parameter grid into runs/<profile>/<notebook>/<point>/")
    sw.add_argument("notebook")
    sw.add_argument("--grid", action="append", type=_grid, default=[], metavar="KEY=V1,V2,...",
                    help="a parameter and its values (YAML scalars); several --grid give their product")
    sw.add_argument("-p", "--profile", default="default", choices=runner.PROFILES)
    sw.add_argument("--set", dest="overrides", action="append", type=_kv, default=[], metavar="KEY=VALUE")
    sw.add_argument("--no-progress", action="store_true")
    _cluster_args(sw, "points")
    sub.add_parser("list", help="list the notebooks")
    p = sub.add_parser("params", help="show a notebook's declared parameters, defaults and a profile's values")
    p.add_argument("notebook")
    p.add_argument("-p", "--profile", default="default", choices=runner.PROFILES)
    lg = sub.add_parser("ledger", help="print the claims ledger (default: the committed default-profile results)")
    lg.add_argument("--results", default=None, help="a results folder, e.g. runs/smoke/results")
    lg.add_argument("--markdown", action="store_true", help="as the README's Markdown table")
    lg.add_argument("--csv", action="store_true", help="as CSV, one row per claim with every column")
    lg.add_argument("--update-readme", action="store_true", help="rewrite the README's generated claims table")
    st = sub.add_parser("site", help="build the static HTML study (Sphinx + MyST-NB) from the executed notebooks")
    st.add_argument("--out", default=None, help="output folder (default runs/site; the pages are in <out>/html)")
    st.add_argument("--no-strict", action="store_true", help="do not turn Sphinx warnings into errors")
    pl = sub.add_parser("plan", help="list every distinct net a profile's notebooks train, what is cached and what "
                                     "the rest costs at this machine's measured rates")
    pl.add_argument("notebooks", nargs="*", help="names or numbers (default: all)")
    pl.add_argument("-p", "--profile", default="default", choices=runner.PROFILES)
    pl.add_argument("--set", dest="overrides", action="append", type=_kv, default=[], metavar="KEY=VALUE")
    pl.add_argument("--no-cost", action="store_true", help="skip measuring the training rates")
    pl.add_argument("--check", action="store_true",
                    help="exit 2 unless the cache holds exactly the plan's nets (after a run of these notebooks)")
    tr = sub.add_parser("train", help="train every net of the plan the cache lacks, one net a task, before a warm run")
    tr.add_argument("notebooks", nargs="*", help="names or numbers (default: all)")
    tr.add_argument("-p", "--profile", default="default", choices=runner.PROFILES)
    tr.add_argument("--set", dest="overrides", action="append", type=_kv, default=[], metavar="KEY=VALUE")
    tr.add_argument("--adaptive", action="store_true", help="also train every net an adaptive walk (12) could reach")
    _cluster_args(tr, "nets")
    dp = sub.add_parser("data", help="turn a standard download into what the paper profiles read "
                                     "(cifar10 -> data/cifar10.npz, ffhq -> data/ffhq64/)")
    dp.add_argument("which", choices=["cifar10", "ffhq"])
    dp.add_argument("src", help="cifar10: the unpacked 'python version' folder (cifar-10-batches-py); ffhq: a folder "
                                "of its images, any resolution")
    dp.add_argument("--out", default=None, help="where to write (default: data/cifar10.npz or data/ffhq<size> in the "
                                                "project, the paths the paper profiles name)")
    dp.add_argument("--size", type=_positive_int, default=64, help="ffhq: the image side (default 64)")
    dp.add_argument("--overwrite", action="store_true", help="replace what exists at --out")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "list":
            print("\n".join(runner.all_notebooks()))
        elif a.cmd == "params":
            name = runner.resolve(a.notebook)
            defaults = runner.notebook_parameters(runner.read_notebook(name))
            schema = params.load_schema(name)
            prof = {**runner.load_profile(a.profile, name), **({"profile": a.profile} if "profile" in defaults else {})}
            for k, v in defaults.items():
                dec = schema.get(k, {"type": "?", "help": "(no declaration)"})
                print(f"{k:18s} {params.describe(dec):44s} default={v!r:24s} {a.profile}={prof.get(k, v)!r}\n"
                      f"{'':18s} {dec['help']}")
            for c in schema.get("_constraints", []):
                print(f"constraint: {c['check']}  ({c.get('help', '')})")
        elif a.cmd == "ledger":
            from pathlib import Path

            if a.update_readme:
                from .io import project_root

                changed = ledger.update_readme(project_root() / "README.md", a.results and Path(a.results))
                print("README.md updated" if changed else "README.md already up to date")
            elif a.markdown:
                print(ledger.ledger_markdown(a.results and Path(a.results)), end="")
            elif a.csv:
                print(ledger.ledger_table(a.results and Path(a.results)).to_csv(index=False), end="")
            else:
                import pandas as pd

                with pd.option_context("display.max_colwidth", 100, "display.width", 160):
                    print(ledger.ledger_table(a.results and Path(a.results))[["id", "verdict", "statistics"]]
                          .to_string(index=False))
        elif a.cmd == "plan":
            from . import plan

            nets = plan.study_plan(a.profile, a.notebooks or None, dict(a.overrides))
            if a.check:
                bad = plan.check_against_cache(nets)
                if bad:
                    raise GendiffError(f"the plan and the cache disagree ({len(bad)}): " + " | ".join(bad[:5]))
                print(f"plan ({a.profile}) and cache agree: {len(nets)} nets")
                return 0
            rates, ref = ({}, None) if a.no_cost else plan.costs(nets)
            _print_plan(plan.plan_table(nets, rates), a.profile, ref)
        elif a.cmd == "train":
            from . import plan

            done = plan.train_plan(a.profile, a.notebooks or None, overrides=dict(a.overrides), adaptive=a.adaptive,
                                   workers=a.workers, scheduler=a.scheduler)
            print(f"{sum(d['trained'] for d in done)} nets trained")
        elif a.cmd == "data":
            from .. import data_prep
            from .io import project_root

            if a.which == "cifar10":
                out = data_prep.prepare_cifar10(a.src, a.out or project_root() / "data" / "cifar10.npz",
                                                overwrite=a.overwrite)
            else:
                out = data_prep.prepare_ffhq(a.src, a.out or project_root() / "data" / f"ffhq{a.size}", size=a.size,
                                             overwrite=a.overwrite)
            print(out)
        elif a.cmd == "site":
            from .site import build_site

            print(build_site(a.out, strict=not a.no_strict))
        elif a.cmd == "sweep":
            print(runner.sweep(a.notebook, dict(a.grid), a.profile, overrides=dict(a.overrides),
                               progress=not a.no_progress, workers=a.workers, scheduler=a.scheduler))
        else:
            out = runner.run(a.notebooks or None, a.profile, overrides=dict(a.overrides), out_dir=a.out,
                             results_dir=a.results, refresh=a.refresh, progress=not a.no_progress,
                             prepare_only=a.prepare_only, workers=a.workers, scheduler=a.scheduler)
            print("\n".join(str(p) for p in out))
    except GendiffError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `gendiff ledger | head`: the reader stopped reading
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (no flush error at exit)
        return 0
    except KeyboardInterrupt:
        print("interrupted: finished notebooks, sweep points and nets are kept; a net in training resumes from its "
              "last checkpoint on the next run", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

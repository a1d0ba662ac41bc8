import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gendiff import GendiffError
from gendiff.study import Claims, below, params, runner
from gendiff.study.claims import load_results
from gendiff.study.io import atomic_write_text

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = runner.all_notebooks()


def test_notebooks_found():
    assert {"00_index", "01_linear_theory", "02_gaussian_optimality"} <= set(NOTEBOOKS)
    assert runner.resolve("01") == "01_linear_theory"
    with pytest.raises(GendiffError, match="not found"):
        runner.resolve("99")


# The image sets the paper profiles name, with their real sizes: a fake of each, of the right image shape, stands in.
PAPER_DATA = {"folder": (70000, "data/ffhq64"), "npz": (60000, "data/cifar10.npz")}


@pytest.fixture
def paper_data(tmp_path, monkeypatch):
    """data/ffhq64 (a folder of 64 px RGB images) and data/cifar10.npz (32 px RGB) in a copy of the project layout,
    each a few images whose count is reported as the real set's, so every constraint is checked at its real size."""
    import shutil

    import numpy as np
    from PIL import Image

    import gendiff.data as gd

    for sub in ("notebooks", "params"):
        shutil.copytree(ROOT / sub, tmp_path / sub)
    (tmp_path / "data" / "ffhq64").mkdir(parents=True)
    for i in range(2):
        Image.fromarray(np.full((64, 64, 3), 40 * i, np.uint8)).save(tmp_path / "data" / "ffhq64" / f"{i:05d}.png")
    np.savez(tmp_path / "data" / "cifar10.npz", x=np.zeros((2, 32, 32, 3), np.uint8))
    monkeypatch.setenv("GENDIFF_ROOT", str(tmp_path))
    real = gd.dataset_info
    monkeypatch.setattr(gd, "dataset_info", lambda name, data_path=None, size=None: (
        (PAPER_DATA[name][0], real(name, data_path, size)[1]) if name in PAPER_DATA else real(name, data_path, size)))
    return tmp_path


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_profile_has_valid_parameters(name, paper_data):
    defaults = runner.notebook_parameters(runner.read_notebook(name))
    for profile in runner.PROFILES:
        # validates every value against its declaration, with every data check and constraint (the paper profiles
        # against the fake FFHQ / CIFAR-10 of paper_data)
        (_, params_, _), = runner.prepare([name], profile)
        if profile == "paper" and "data_path" in params_:
            assert params_["data_path"] == str((paper_data / PAPER_DATA[params_["dataset"]][1]).resolve())
    # the committed notebooks are executed without injection, so default == the parameters cell
    assert runner.load_profile("default", name) == {k: v for k, v in defaults.items()
                                                     if k not in ("profile", "results_dir")}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_parameter_is_declared(name):
    defaults = runner.notebook_parameters(runner.read_notebook(name))
    schema = params.load_schema(name)
    assert set(defaults) == set(schema) - {"_constraints"}, (set(defaults) ^ set(schema))
    for k, dec in schema.items():
        if k != "_constraints":
            assert len(dec["help"]) > 8, (name, k)


def test_a_parameter_file_disagreeing_with_the_notebook_stops_before_work(tmp_path, monkeypatch):
    import shutil

    for sub in ("notebooks", "params"):
        shutil.copytree(ROOT / sub, tmp_path / sub)
    monkeypatch.setenv("GENDIFF_ROOT", str(tmp_path))
    f = tmp_path / "params" / "05_dataset_size.yaml"
    text = f.read_text()
    f.write_text(text.replace("  help: U-Net channel base c\n  default: 16", "  help: U-Net channel base c\n  default: 8"))
    with pytest.raises(GendiffError, match=r"parameter 'channels': notebook 05_dataset_size's parameters cell has 16, "
                                           r".*05_dataset_size.yaml says default 8; make them agree"):
        runner.prepare(["05_dataset_size"], "smoke")
    f.write_text(text.replace("  default: 16\n  smoke: 4", "  smoke: 4", 1))  # channels without a default
    with pytest.raises(GendiffError, match="parameter 'channels' needs at least 'type', 'help' and 'default'"):
        runner.prepare(["05_dataset_size"], "smoke")
    f.write_text(text + "profile:\n  type: str\n  help: set twice\n  default: smoke\n")
    with pytest.raises(GendiffError, match="'profile' is set by the runner"):
        runner.prepare(["05_dataset_size"], "smoke")
    f.write_text(text + "extra:\n  type: int\n  help: not in the notebook\n  default: 1\n")
    with pytest.raises(GendiffError, match="05_dataset_size.yaml declares 'extra', which notebook 05_dataset_size's "
                                           "parameters cell lacks"):
        runner.prepare(["05_dataset_size"], "smoke")


def test_undeclared_parameter_is_refused():
    d = runner.notebook_parameters(runner.read_notebook("02_gaussian_optimality"))
    schema = params.load_schema("02_gaussian_optimality")
    del schema["sgd_lr"]
    with pytest.raises(GendiffError, match="parameter 'sgd_lr' of notebook 02 has no declaration"):
        params.validate("02", d, {}, schema=schema)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_pairs_in_sync(name):
    import jupytext

    py = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    ipynb_path = ROOT / "notebooks" / f"{name}.ipynb"
    assert ipynb_path.exists(), f"{name}.ipynb is missing: run `make study`"
    nb = jupytext.read(ipynb_path)
    cells = lambda n: [(c.cell_type, c.source.strip()) for c in n.cells]  # noqa: E731
    assert cells(nb) == cells(py), f"{name}: .py and .ipynb differ; run `make study` (or `make sync`)"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), f"{name}.ipynb is not fully executed"
    assert not any(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))


def test_no_notebook_pins_a_device():
    """The device is one decision (gendiff.device): a notebook that names one would train on the CPU on a GPU
    machine, or fail on a CPU one."""
    import re

    pinned = {n: re.findall(r"device\s*=\s*['\"](?:cpu|cuda|mps)", (ROOT / "notebooks" / f"{n}.py").read_text())
              for n in NOTEBOOKS}
    assert {n: v for n, v in pinned.items() if v} == {}


def test_validation_messages():
    d = runner.notebook_parameters(runner.read_notebook("02_gaussian_optimality"))
    v = lambda nb, defaults, p: params.validate(runner.resolve(nb), defaults, p)  # noqa: E731
    with pytest.raises(GendiffError, match="unknown parameter 'bogus'"):
        v("02", d, {"bogus": 1})
    with pytest.raises(GendiffError, match="N=5000 is larger than the dataset 'digits'"):
        v("02", d, {"N": 5000})
    with pytest.raises(GendiffError, match="'gd_steps' .* must be an int, got 'many'"):
        v("02", d, {"gd_steps": "many"})
    with pytest.raises(GendiffError, match=r"'datasets'.*\[0\] must be one of"):
        v("02", d, {"datasets": ["cifar"]})
    d1 = runner.notebook_parameters(runner.read_notebook("01_linear_theory"))
    with pytest.raises(GendiffError, match=r"'gap_sigmas'.*\[1\] must be > 0"):
        v("01", d1, {"gap_sigmas": [0.1, 0.0]})
    with pytest.raises(GendiffError, match="'eta' .* must be > 0"):
        v("01", d1, {"eta": -1.0})
    with pytest.raises(GendiffError, match=r"'kl_ratios'.*\[1\] must be a number, got 'x'"):
        v("01", d1, {"kl_ratios": [0.5, "x"]})
    with pytest.raises(GendiffError, match=r"'ridges'.*\[0\] must be > 0"):
        v("01", d1, {"ridges": [-1.0]})
    with pytest.raises(GendiffError, match="must have at least 1"):
        v("01", d1, {"ridges": []})
    d4 = runner.notebook_parameters(runner.read_notebook("04_gaussian_structure"))
    with pytest.raises(GendiffError, match="'channels' .* must be >= 4, got 3"):  # the U-Net's attention head
        v("04", d4, {"channels": 3})
    with pytest.raises(GendiffError, match="N=9999 is larger than the dataset 'mnist'"):
        v("04", d4, {"N_gen": 9999})
    with pytest.raises(GendiffError, match="profile"):
        v("01", d1, {"profile": "huge"})
    d7 = runner.notebook_parameters(runner.read_notebook("07_training_time"))
    with pytest.raises(GendiffError, match="'report_sigma' .* must be finite"):
        v("07", d7, {"report_sigma": float("inf")})
    with pytest.raises(GendiffError, match=r"max\(snapshots\) <= steps"):
        v("07", d7, {"snapshots": [50, 3000]})
    d5 = runner.notebook_parameters(runner.read_notebook("05_dataset_size"))
    with pytest.raises(GendiffError, match=r"max\(Ns\) \+ n_eval <= data_size"):
        v("05", d5, {"Ns": [16, 4990], "n_eval": 64})
    d8 = runner.notebook_parameters(runner.read_notebook("08_strong_generalization"))
    with pytest.raises(GendiffError, match="two disjoint halves"):
        v("08", d8, {"N_gen": 3000})
    with pytest.raises(GendiffError, match="data_path.*does not exist"):
        v("05", d5, {"dataset": "folder", "data_path": "/no/such/folder"})
    with pytest.raises(GendiffError, match="data_path' .* is needed"):
        v("05", d5, {"dataset": "npz"})


def test_the_paper_path_stops_before_any_work(paper_data, monkeypatch):
    import gendiff.data as gd

    with pytest.raises(GendiffError, match="'heat_net in channel_bases'"):
        runner.prepare(["09_locality"], "paper", {"heat_net": 16})
    monkeypatch.setattr(gd, "dataset_info", lambda name, data_path=None, size=None: (1000, 64))  # a smaller set
    with pytest.raises(GendiffError, match=r"'Ns' .*: N=1094 is larger than the dataset 'folder' \(1000 images\)"):
        runner.prepare(["05_dataset_size"], "paper")
    (paper_data / "data" / "cifar10.npz").unlink()
    with pytest.raises(GendiffError, match=r"'data/cifar10.npz' does not exist \(tried .*data/cifar10.npz\); pass "
                                           r"--set data_path="):
        runner.prepare(["10_pspc"], "paper")


def test_pretrained_nets_are_checked_before_any_work_and_never_planned_for_training(paper_data):
    from gendiff.study import plan as P

    nets = paper_data / "nets"
    nets.mkdir()
    for c in (8, 16, 32):
        (nets / f"c{c}.pt").write_bytes(b"x")
    with pytest.raises(GendiffError, match=r"parameter 'pretrained': 'nets/c99.pt' does not exist \(tried "):
        runner.prepare(["10_pspc"], "default", {"pretrained": ["nets/c8.pt", "nets/c16.pt", "nets/c99.pt"]})
    with pytest.raises(GendiffError, match="one pretrained net per channel base"):
        runner.prepare(["10_pspc"], "default", {"pretrained": ["nets/c8.pt"], "more_seeds": []})
    with pytest.raises(GendiffError, match="more_seeds must be empty"):
        runner.prepare(["10_pspc"], "default", {"pretrained": [f"nets/c{c}.pt" for c in (8, 16, 32)]})
    given = {"pretrained": [f"nets/c{c}.pt" for c in (8, 16, 32)], "more_seeds": []}
    (_, params_, _), = runner.prepare(["10_pspc"], "default", given)
    assert params_["pretrained"] == [str((nets / f"c{c}.pt").resolve()) for c in (8, 16, 32)]
    assert P.study_plan("default", ["10_pspc"], given) == []
    assert [n.cfg.arch for n in P.study_plan("default", ["09_locality"], {"pretrained": given["pretrained"]})] == ["mlp"]


def test_profile_cannot_be_overridden():
    with pytest.raises(GendiffError, match="'profile' is set by --profile"):
        runner.prepare(["07_training_time"], "smoke", {"profile": "paper"})


def test_cli_rejects_before_running(tmp_path):
    env = dict(os.environ)
    for args, msg in ((["--set", "N=99999", "02"], "N=99999 is larger"), (["--set", "nope=1"], "unknown parameter 'nope'"),
                      (["--set", "sigma_mins=[-0.1]", "01"], "must be > 0"),
                      (["--set", "Ns=[1,2", "05"], "not valid YAML"),
                      (["--set", "profile=paper", "07"], "'profile' is set by --profile")):
        r = subprocess.run([sys.executable, "-m", "gendiff", "run", "-p", "smoke", "--out", str(tmp_path), *args],
                           capture_output=True,
                           text=True, env=env, cwd=ROOT)
        assert r.returncode == 2 and msg in r.stderr, r.stderr
        assert "running" not in r.stderr and "Traceback" not in r.stderr
    assert not any(tmp_path.iterdir())


def test_prepare_only_injects_parameters(tmp_path):
    out = runner.run(["01"], "smoke", out_dir=tmp_path, prepare_only=True, progress=False)
    nb = json.loads(out[0].read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and "d = 16" in "".join(injected[0]["source"])


def test_results_atomic_and_ledger(tmp_path):
    c = Claims("01_linear_theory", "smoke", tmp_path)
    c.declare("000-c-ridge", "c = ridge", source="Merger & Goldt 2025", tests={"rel_err": below(0.05)})
    c.declare("000-loss-gap", "gap formula", source="Merger & Goldt 2025", tests={"z": below(4.5)})
    assert c.record("000-c-ridge", "c within 1%", rel_err=0.01) == "holds"
    c.number("x", 1.5)
    got = load_results(tmp_path)["01_linear_theory"]
    assert got["recorded"]["000-c-ridge"]["verdict"] == "holds" and got["numbers"]["x"] == 1.5
    assert not list(tmp_path.glob(".*tmp"))
    from gendiff.study.ledger import ledger_table

    t = ledger_table(tmp_path).set_index("id")
    assert t.loc["000-c-ridge", "verdict"] == "holds" and t.loc["000-c-ridge", "test"] == "rel_err < 0.05"
    assert t.loc["000-loss-gap", "verdict"] == "not recorded"
    assert t.loc["(02_gaussian_optimality)", "verdict"] == "not run"
    with pytest.raises(GendiffError, match="not recorded: 000-loss-gap"):
        c.finish()


def test_ledger_shows_where_an_explanation_was_tested(tmp_path):
    from gendiff.study.ledger import ledger_markdown, ledger_table

    a = Claims("04_gaussian_structure", "smoke", tmp_path)
    a.declare("001-x", "x", source="paper", tests={"v": below(1.0)})
    a.record("001-x", "x measured", v=2.0)
    b = Claims("07_training_time", "smoke", tmp_path)
    b.declare("001-why-x", "why x", source="ours", tests={"v": below(1.0)}, explains="001-x")
    b.declare("001-why-x-2", "why x again", source="ours", tests={"v": below(1.0)}, explains=["001-x"])
    b.record("001-why-x", "tested", v=0.5)
    b.record("001-why-x-2", "tested", v=3.0)
    nbs = ["04_gaussian_structure", "07_training_time"]
    t = ledger_table(tmp_path, notebooks=nbs).set_index("id")
    assert t.loc["001-x", "tested_by"] == "001-why-x (holds); 001-why-x-2 (differs)"
    assert t.loc["001-why-x", "tested_by"] == ""
    assert "x measured (explanation tested by: 001-why-x (holds); 001-why-x-2 (differs))" in ledger_markdown(tmp_path)
    c = Claims("08_strong_generalization", "smoke", tmp_path)  # a pointer to no declared claim: named, once complete
    c.declare("001-y", "y", source="ours", tests={"v": below(1.0)}, explains="001-typo")
    with pytest.raises(GendiffError, match="'001-y'.*explains '001-typo', which no notebook declares"):
        ledger_table(tmp_path, notebooks=nbs + ["08_strong_generalization"])
    with pytest.raises(GendiffError, match="explains must name other claims"):
        c.declare("001-z", "z", source="ours", tests={"v": below(1.0)}, explains="001-z")


def test_truncated_results_file_is_named(tmp_path):
    (tmp_path / "05_dataset_size.json").write_text('{"notebook": "05_da')
    with pytest.raises(GendiffError, match="05_dataset_size.json is not valid JSON"):
        load_results(tmp_path)


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    p = tmp_path / "f.json"
    atomic_write_text(p, "old")

    class Boom:
        def __str__(self):
            raise RuntimeError

    with pytest.raises(TypeError):
        atomic_write_text(p, Boom())
    assert p.read_text() == "old" and [q.name for q in tmp_path.iterdir()] == ["f.json"]


def test_readme_findings_are_generated_from_the_ledger():
    from gendiff.study.ledger import findings_markdown, readme_table

    assert readme_table((ROOT / "README.md").read_text()) == findings_markdown(), \
        "README's findings differ from the ledger: run `python -m gendiff ledger --update-readme`"


def test_committed_results_match_the_committed_notebooks():
    """Every notebook's committed results declare claims, each with a recorded verdict (a complete run)."""
    res = load_results(ROOT / "results")
    for nb in NOTEBOOKS:
        if nb == runner.INDEX:
            continue
        assert nb in res, f"results/{nb}.json missing: run `make study`"
        assert res[nb]["numbers"].get("complete"), nb
        assert res[nb]["declared"] and set(res[nb]["recorded"]) == {d["id"] for d in res[nb]["declared"]}


def test_nothing_cites_files_outside_the_repository():
    name = "STUDY" + ".md"  # the brief the project was started from, which is not in the repository
    files = [ROOT / "README.md", *[p for d in ("gendiff", "notebooks", "params", "docs", "bench", "tests")
                                   for p in (ROOT / d).rglob("*") if p.suffix in (".py", ".md", ".yaml", ".ipynb")]]
    hits = [p for p in files if name in p.read_text(errors="ignore")]
    assert not hits, hits


def test_parameter_files_are_one_mapping_per_notebook():
    assert not [p for p in (ROOT / "params").iterdir() if p.is_dir()], "one parameter file per notebook"
    for p in (ROOT / "params").glob("*.yaml"):
        assert isinstance(yaml.safe_load(p.read_text()) or {}, dict), p


def test_strip_progress_drops_bars_and_keeps_warnings():
    import nbformat

    from gendiff.study.runner import strip_progress

    nb = nbformat.v4.new_notebook()
    bars = "\rnets:   0%|          | 0/3 [00:00<?, ?it/s]\n\x1b[A\n\rnets: 100%|##########| 3/3 [00:01<00:00, 2.9it/s]"
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("stream", name="stderr", text=bars),
        nbformat.v4.new_output("stream", name="stderr", text=bars + "\nUserWarning: something real\n"),
        nbformat.v4.new_output("stream", name="stdout", text="10% | a table | row\n")])]
    outs = strip_progress(nb).cells[0].outputs
    assert [o.name for o in outs] == ["stderr", "stdout"]
    assert outs[0].text == "UserWarning: something real\n"
    assert outs[1].text == "10% | a table | row\n"  # stdout is never touched


def test_committed_notebooks_carry_no_progress_bars():
    import nbformat

    for p in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        nb = nbformat.read(p, as_version=4)
        bars = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if o.get("name") == "stderr" and ("it/s]" in o.get("text", "") or "s/it]" in o.get("text", ""))]
        assert not bars, f"{p.name}: {len(bars)} progress-bar outputs (run through `gendiff run`, which strips them)"


def test_committed_notebooks_print_no_raw_numpy_reprs():
    """Numbers a reader sees are formatted: `[np.float64(0.133...)]` in an output means a list printed raw."""
    import nbformat

    for p in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        nb = nbformat.read(p, as_version=4)
        raw = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" for o in c.get("outputs", [])
               if "np.float" in o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))]
        assert not raw, f"{p.name}: raw numpy scalar reprs in the outputs of cells {raw}"


def _doubled_figures(nb) -> list[int]:
    """Cells that show the same picture twice (a cell ending in an expression that returns a Figure shows it once as
    its value and once from the inline backend)."""
    out = []
    for i, c in enumerate(nb.cells):
        pngs = [o["data"]["image/png"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
        if len(pngs) != len(set(pngs)):
            out.append(i)
    return out


def test_doubled_figure_check_catches_a_repeated_picture():
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("f()")])
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", {"image/png": "AAAA"})] * 2
    assert _doubled_figures(nb) == [0]
    nb.cells[0].outputs[1] = nbformat.v4.new_output("display_data", {"image/png": "BBBB"})
    assert _doubled_figures(nb) == []


def test_committed_notebooks_show_no_figure_twice():
    import nbformat

    for p in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        doubled = _doubled_figures(nbformat.read(p, as_version=4))
        assert not doubled, f"{p.name}: cells {doubled} show the same figure twice"

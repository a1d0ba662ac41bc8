"""The sweep command on a toy project (its own notebooks/ and params/), so it runs in seconds."""
import json
import textwrap

import pandas as pd
import pytest

from gendiff import GendiffError
import gendiff.study.sweep
from gendiff.study import runner

TOY = textwrap.dedent('''\
    # ---
    # jupyter:
    #   kernelspec:
    #     display_name: Python 3
    #     language: python
    #     name: python3
    # ---

    # %% tags=["parameters"]
    profile = "default"
    results_dir = None
    x = 1
    scale = 2.0

    # %%
    from gendiff.study import Claims, Estimate, below
    claims = Claims("01_toy", profile, results_dir)
    claims.declare("toy-small", "x is small", source="toy", tests={"x": below(3)})

    # %%
    claims.number("y", x * scale)
    assert x != 5, "x too large"
    claims.record("toy-small", f"x = {x}", x=Estimate(x, x - 0.5, x + 0.5))
    claims.finish()
    ''')
PARAMS = textwrap.dedent('''\
    x: {type: int, ge: 0, help: "a toy number", default: 1, smoke: 1}
    scale: {type: float, gt: 0, help: "a toy scale", default: 2.0}
    ''')


@pytest.fixture
def toy(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_toy.py").write_text(TOY)
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "01_toy.yaml").write_text(PARAMS)
    monkeypatch.setenv("GENDIFF_ROOT", str(tmp_path))
    return tmp_path


def test_sweep_runs_points_reports_failures_and_skips_done(toy, capsys):
    with pytest.raises(GendiffError, match=r"2 of 6 sweep points failed: \[\{'x': 5, 'scale': 1.0\}, \{'x': 5, "
                                           r"'scale': 3.0\}\]; the others are in .*sweep.csv"):
        runner.sweep("01", {"x": [1, 4, 5], "scale": [1.0, 3.0]}, "smoke", progress=False)
    csv = toy / "runs" / "smoke" / "01_toy" / "sweep.csv"
    df = pd.read_csv(csv)
    assert len(df) == 6
    assert set(df[df.x == 5].status) == {"failed"} and set(df[df.x < 5].status) == {"done"}
    done = df[df.status == "done"]
    assert (done.y == done.x * done.scale).all()
    assert set(done[done.x == 1]["verdict:toy-small"]) == {"holds"}
    assert set(done[done.x == 4]["verdict:toy-small"]) == {"differs"}  # the verdict follows the declared test
    # the statistic behind each verdict, with its interval
    assert (done["toy-small.x"] == done.x).all() and (done["toy-small.x:lo"] == done.x - 0.5).all()
    assert df[df.status == "failed"]["toy-small.x"].isna().all()
    err = capsys.readouterr().err
    assert "FAILED point {'x': 5, 'scale': 1.0}" in err and "x too large" in err
    assert (csv.parent / "sweep.png").exists()
    failed = json.loads((csv.parent / "x=5,scale=1.0" / "failed.json").read_text())
    assert failed["point"] == {"x": 5, "scale": 1.0}
    # a second call skips the points already done and retries the failed ones
    with pytest.raises(GendiffError, match="2 of 6 sweep points failed"):
        runner.sweep("01", {"x": [1, 4, 5], "scale": [1.0, 3.0]}, "smoke", progress=False)
    err = capsys.readouterr().err
    assert err.count("done, skipped") == 4 and err.count("FAILED point") == 2


def test_a_sweep_point_is_reused_only_with_the_same_parameters_profile_and_code(toy, capsys, monkeypatch):
    grid = {"x": [2]}
    runner.sweep("01", grid, "smoke", progress=False)
    capsys.readouterr()
    runner.sweep("01", grid, "smoke", progress=False)  # nothing changed: reused
    assert "x=2: done, skipped" in capsys.readouterr().err
    # a changed non-grid --set: recomputed, saying why, and the CSV holds the new numbers (y = x * scale)
    df = pd.read_csv(runner.sweep("01", grid, "smoke", overrides={"scale": 5.0}, progress=False))
    err = capsys.readouterr().err
    assert "x=2: computed anew (scale: 2.0 -> 5.0)" in err and "skipped" not in err
    assert list(df.y) == [10.0]
    # a changed parameter file: recomputed
    (toy / "params" / "01_toy.yaml").write_text(PARAMS.replace("default: 2.0}", "default: 2.0, smoke: 3.0}"))
    df = pd.read_csv(runner.sweep("01", grid, "smoke", progress=False))
    assert "computed anew (scale: 5.0 -> 3.0; its parameter file changed)" in capsys.readouterr().err
    assert list(df.y) == [6.0]
    # changed code: recomputed
    monkeypatch.setattr(gendiff.study.sweep, "code_digest", lambda name: "another-code")
    runner.sweep("01", grid, "smoke", progress=False)
    assert "computed anew (code changed)" in capsys.readouterr().err
    # a record from before identities were kept: recomputed
    done = toy / "runs" / "smoke" / "01_toy" / "x=2" / "done.json"
    done.write_text(json.dumps({"point": {"x": 2}, "params": {}}))
    runner.sweep("01", grid, "smoke", progress=False)
    assert "x=2: computed anew (its record does not say what it ran with)" in capsys.readouterr().err


def test_a_failed_sweep_exits_non_zero_from_the_command_line(toy, capsys):
    from gendiff.study.cli import main

    assert main(["sweep", "01", "-p", "smoke", "--grid", "x=5", "--no-progress"]) == 2
    assert "error: 1 of 1 sweep points failed" in capsys.readouterr().err


def test_sweep_validates_every_point_first(toy):
    with pytest.raises(GendiffError, match="unknown parameter 'nope'"):
        runner.sweep("01", {"nope": [1]}, "smoke", progress=False)
    with pytest.raises(GendiffError, match="must be an int"):
        runner.sweep("01", {"x": [1, "a"]}, "smoke", progress=False)
    assert not (toy / "runs").exists()
    with pytest.raises(GendiffError, match="at least one"):
        runner.sweep("01", {}, "smoke")


def test_sweep_on_a_two_worker_local_dask_cluster_matches_the_sequential_run(toy, capsys):
    grid = {"x": [1, 2], "scale": [1.0, 3.0]}
    seq = pd.read_csv(runner.sweep("01", grid, "smoke", progress=False))
    import shutil

    shutil.rmtree(toy / "runs")
    par_csv = runner.sweep("01", grid, "smoke", progress=False, workers=2)
    err = capsys.readouterr().err
    assert "dask: 4 tasks on 2 workers" in err and err.count("finished x=") == 4
    par = pd.read_csv(par_csv)
    assert (par.runtime_s > 0).all()  # recorded by Claims itself, and different in every run
    pd.testing.assert_frame_equal(par.drop(columns="runtime_s"), seq.drop(columns="runtime_s"))  # same rows, order, verdicts
    assert (seq.status == "done").all()


def test_dask_sweep_reports_failing_points_with_their_parameters(toy, capsys):
    with pytest.raises(GendiffError, match="1 of 2 sweep points failed"):
        runner.sweep("01", {"x": [1, 5]}, "smoke", progress=False, workers=2)
    df = pd.read_csv(toy / "runs" / "smoke" / "01_toy" / "sweep.csv")
    assert list(df.status) == ["done", "failed"]
    err = capsys.readouterr().err
    assert "FAILED point {'x': 5}" in err and "x too large" in err
    assert not _worker_processes(), "the LocalCluster's worker processes outlived the sweep"
    with pytest.raises(GendiffError, match="workers must be an integer >= 1"):
        runner.sweep("01", {"x": [1]}, "smoke", workers=0)


def _worker_processes(wait_s: float = 10.0) -> list[str]:
    """Command lines of this process's spawned children (LocalCluster workers) still alive after a grace period;
    multiprocessing's resource tracker, which lives as long as this process, is not one of them."""
    import time

    import psutil

    def alive():
        out = []
        for p in psutil.Process().children(recursive=True):
            try:
                cmd = " ".join(p.cmdline())
            except psutil.Error:  # exited meanwhile
                continue
            if "spawn_main" in cmd and p.status() != psutil.STATUS_ZOMBIE:
                out.append(cmd)
        return out

    deadline = time.time() + wait_s
    while (kids := alive()) and time.time() < deadline:
        time.sleep(0.2)
    return kids


def _train_tiny_net(root):
    from gendiff.cache import get_model
    from gendiff.zoo import NetConfig

    cfg = NetConfig(N=32, dataset="digits", size=8, channels=4, steps=30, batch_size=16)
    return get_model(cfg, progress=False, root=root, device="cpu")[1]["trained"]


def test_two_dask_workers_asking_for_the_same_new_net_train_it_once(tmp_path):
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        workers = list(client.scheduler_info()["workers"])
        futs = [client.submit(_train_tiny_net, tmp_path, workers=[w], pure=False) for w in workers]
        trained = client.gather(futs)
    assert sorted(trained) == [False, True]  # one trained it; the other waited on the lock and loaded it

"""Tasks one after the other or on a Dask cluster (a LocalCluster of single-threaded worker processes, or an existing
cluster by address), reporting each as it finishes."""
from __future__ import annotations

import sys

from .._checks import GendiffError

def dask_client(workers: int | None = None, scheduler: str | None = None):
    """A dask.distributed Client: on the cluster at ``scheduler`` (an address such as tcp://host:8786, or a
    scheduler file path ending in .json), or on an in-process LocalCluster of ``workers`` single-threaded worker
    processes. Every worker must see this project and its model cache on a shared filesystem."""
    try:
        from dask.distributed import Client
    except ImportError:  # pragma: no cover
        raise GendiffError("--workers/--scheduler need dask.distributed: pip install 'dask[distributed]'") from None
    if scheduler:
        if str(scheduler).endswith(".json"):
            return Client(scheduler_file=str(scheduler))
        return Client(str(scheduler))
    check_workers(workers)
    # the Client starts the LocalCluster itself, so closing the Client also stops its worker processes
    return Client(n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=":0")


def check_workers(workers) -> None:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise GendiffError(f"workers must be an integer >= 1, got {workers!r}")


def map_tasks(fn, tasks: list[tuple], labels: list[str], *, workers: int | None, scheduler: str | None):
    """Run fn(*task) for every task, sequentially or on Dask; yields (index, result or error message, ok) as each
    finishes, printing one line per task."""
    if workers is None and scheduler is None:
        for i, (t, label) in enumerate(zip(tasks, labels)):
            print(f"[{i + 1}/{len(tasks)}] {label}", file=sys.stderr, flush=True)
            yield i, fn(*t), True
        return
    from dask.distributed import as_completed

    with dask_client(workers, scheduler) as client:
        print(f"dask: {len(tasks)} tasks on {len(client.scheduler_info()['workers'])} workers "
              f"({client.scheduler.address})", file=sys.stderr, flush=True)
        futures = {client.submit(fn, *t, pure=False, key=f"gendiff-{label}-{i}"): i
                   for i, (t, label) in enumerate(zip(tasks, labels))}
        done = 0
        for fut in as_completed(futures):
            i, done = futures[fut], done + 1
            print(f"[{done}/{len(tasks)}] finished {labels[i]}", file=sys.stderr, flush=True)
            if fut.status == "error":  # the worker itself failed (killed, lost), not the notebook
                yield i, f"{type(fut.exception()).__name__}: {fut.exception()}", False
            else:
                yield i, fut.result(), True

"""Running a batch's tasks on a Ray cluster (``placer place --ray``): the address checked up
front, one CPU per task, each record handed back as it comes; loaded only when asked for."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from placer.batch_task import OnRecord, PlacementTask, error_text, failed_record, run_task
from placer.interrupts import handlers_kept


def ray_endpoint(address: str) -> tuple[str, int] | None:
    """The ``(host, port)`` a Ray address connects to ("host:port", "ray://host:port"); None
    for the addresses Ray resolves itself ("auto", "local") or that carry no port."""
    rest = address.removeprefix("ray://")
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def check_ray_address(address: str) -> None:
    """Refuse a ``--ray`` address Ray cannot take ("bogus": Ray's own "Invalid address
    format"), Ray not installed, or an address nothing answers on, before any work.

    Raises:
        ValueError: the address is no Ray address.
        RuntimeError: Ray is missing, or nothing answers at the address.
    """
    if address not in ("auto", "local") and not address.startswith("ray://") and ray_endpoint(address) is None:
        raise ValueError(f"--ray {address}: expected local, auto, HOST:PORT or ray://HOST[:PORT]")
    try:
        import ray
    except ImportError:
        raise RuntimeError(
            "Ray is not installed: pip install 'placer-gym[ray]' (or drop --ray to run locally)"
        ) from None
    if not ray.is_initialized():  # a session of this process is used as it is
        _check_reachable(address)


def _check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Refuse a Ray address nothing answers on within ``timeout_s`` (``ray.init`` waits on an
    unreachable one for many minutes without a word).

    Raises:
        RuntimeError: naming the address and what to do.
    """
    import socket

    named = address
    if address == "auto" and os.environ.get("RAY_ADDRESS"):  # what ray.init then connects to
        named = os.environ["RAY_ADDRESS"]
    endpoint = ray_endpoint(named)
    if endpoint is None:
        return
    try:
        socket.create_connection(endpoint, timeout=timeout_s).close()
    except OSError as exc:
        where = address if named == address else f"{address} (RAY_ADDRESS={named})"
        raise RuntimeError(
            f"--ray {where}: nothing answers there ({exc.strerror or exc}); start a cluster with "
            "`ray start --head`, pass its address, or use --ray local"
        ) from None


def run_on_ray(tasks: Sequence[PlacementTask], address: str, record_done: OnRecord) -> None:
    """Run ``tasks`` on a Ray cluster (one CPU each), handing each record over as it comes.

    ``address`` is what ``ray.init`` takes ("auto", "host:port", "ray://host:10001", or
    "local" for a fresh local instance). A Ray session already started in this process is used
    as it is. Workers need this package installed and the runs folder on a shared file system.
    """
    try:
        import ray
    except ImportError:
        raise RuntimeError(
            "Ray is not installed: pip install 'placer-gym[ray]' (or drop --ray to run locally)"
        ) from None
    started_here = not ray.is_initialized()
    if started_here:  # (the address was checked by check_ray_address)
        # ray.init makes SIGTERM a sys.exit: a kill ended the batch with exit 1 and no summary
        # instead of stopping it as Ctrl-C does (130, rerun with --resume)
        try:
            with handlers_kept():
                # (Ray's own INFO and WARNING lines, e.g. about its token authentication, are
                # not ours to print: its errors still are)
                ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        except ConnectionError as exc:  # Ray's own text names flags of its CLI, not ours
            first = (str(exc).strip().splitlines() or [""])[0].rstrip(".")  # (addresses have dots)
            raise RuntimeError(
                f"--ray {address}: could not connect ({first}); start a cluster with "
                "`ray start --head`, pass its address, or use --ray local"
            ) from None
    remote_run = ray.remote(num_cpus=1, max_retries=0)(run_task)
    pending = {remote_run.remote(task): task for task in tasks}
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                task = pending.pop(ref)
                try:
                    record = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - a lost worker, a Ray error
                    record = failed_record(task, error_text(exc))
                record_done(record)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started_here:
            ray.shutdown()

"""``--ray local``'s instance keeps its files where only this user may enter (checked on the
options handed to ``ray.init``; no Ray instance is started here)."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from netlists.errors import Unavailable


@pytest.fixture
def ray_init_seen(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """``ray.init`` replaced by one recording its options and the private folder's state."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'placer-gym[ray]')")
    seen: list[dict[str, Any]] = []

    def init(**kwargs: Any) -> None:
        temp = kwargs.get("_temp_dir")
        if temp is not None:
            parent = os.stat(Path(temp).parent)
            kwargs["parent mode"], kwargs["parent owner"] = stat.S_IMODE(parent.st_mode), parent.st_uid
        seen.append(kwargs)

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", init)
    monkeypatch.setattr(ray, "shutdown", lambda: None)
    return seen


def test_a_local_instance_keeps_its_files_in_a_private_folder_removed_at_the_end(ray_init_seen) -> None:  # type: ignore[no-untyped-def]
    """Ray's default /tmp/ray holds session folders of mode 0777 (logs, sockets) that other
    users of the machine could read and reach."""
    from placer import batch_ray

    batch_ray.run_on_ray([], "local", lambda record: None)
    (options,) = ray_init_seen
    assert options["parent mode"] == 0o700 and options["parent owner"] == os.getuid()
    assert os.path.isabs(options["_temp_dir"])
    assert not Path(options["_temp_dir"]).parent.exists()  # removed when the batch ended


def test_a_local_instance_that_fails_to_start_leaves_no_folder(ray_init_seen, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import ray

    from placer import batch_ray

    def refuse(**kwargs: Any) -> None:
        ray_init_seen.append(kwargs)
        raise ConnectionError("no cluster here")

    monkeypatch.setattr(ray, "init", refuse)
    with pytest.raises(Unavailable, match="could not connect"):
        batch_ray.run_on_ray([], "local", lambda record: None)
    assert not Path(ray_init_seen[0]["_temp_dir"]).parent.exists()


def test_a_clusters_address_is_joined_without_a_folder_of_ours(ray_init_seen) -> None:  # type: ignore[no-untyped-def]
    from placer import batch_ray

    batch_ray.run_on_ray([], "auto", lambda record: None)
    (options,) = ray_init_seen
    assert "_temp_dir" not in options and options["address"] == "auto"


#: The longest socket path Ray makes under its temporary folder (a session named after its start
#: and a 7-digit pid), and the longest AF_UNIX path Ray accepts here.
_RAY_SOCKET = os.path.join("session_2026-01-01_00-00-00_000000_1234567", "sockets", "plasma_store")
_SOCKET_LIMIT = 103 if sys.platform == "darwin" else 107


@pytest.fixture
def short_base() -> Iterator[str]:
    """A fresh folder in /tmp (short), removed at the end."""
    base = tempfile.mkdtemp(dir="/tmp")
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.skipif(sys.platform == "win32", reason="Ray's sockets are TCP ports on Windows")
def test_ray_sockets_fit_under_a_long_tmpdir(short_base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The private folder went in $TMPDIR: under a 40-character one (macOS's /var/folders/...
    is longer) the plasma store's socket path passed AF_UNIX's limit and ray.init failed."""
    from placer.batch_ray import _init_options, _remove

    tmpdir = os.path.join(short_base, "t" * (40 - len(short_base) - 1))
    os.mkdir(tmpdir)
    assert len(tmpdir) == 40
    monkeypatch.setenv("TMPDIR", tmpdir)
    monkeypatch.delenv("RAY_TMPDIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", None)  # (read $TMPDIR again)
    options, private = _init_options("local")
    try:
        assert private is not None and stat.S_IMODE(os.stat(private).st_mode) == 0o700
        assert len(os.fsencode(os.path.join(options["_temp_dir"], _RAY_SOCKET))) <= _SOCKET_LIMIT
    finally:
        _remove(private)


@pytest.mark.skipif(sys.platform == "win32", reason="Ray's sockets are TCP ports on Windows")
def test_ray_tmpdir_is_honoured(short_base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from placer.batch_ray import _init_options, _remove

    monkeypatch.setenv("RAY_TMPDIR", short_base)
    options, private = _init_options("local")
    try:
        assert private is not None and Path(private).parent == Path(short_base)
        assert Path(options["_temp_dir"]).parent == Path(private)
    finally:
        _remove(private)


@pytest.mark.skipif(sys.platform == "win32", reason="Ray's sockets are TCP ports on Windows")
def test_a_ray_tmpdir_too_long_for_the_sockets_is_refused_up_front(
    short_base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'placer-gym[ray]')")
    from placer.batch_ray import check_ray_address

    # (a name of its own, in a fresh folder: another run's folder of a fixed name failed the check below)
    long = os.path.join(short_base, "r" * (_SOCKET_LIMIT - 71 - len(short_base)))  # Ray's own 'ray' in it would fit
    assert len(os.path.join(long, "ray", _RAY_SOCKET)) == _SOCKET_LIMIT - 2
    monkeypatch.setenv("RAY_TMPDIR", long)
    with pytest.raises(Unavailable, match="set RAY_TMPDIR to a shorter folder"):
        check_ray_address("local")
    assert not os.path.exists(long)


@pytest.mark.parametrize("version", ["2.58.1", "2.9.3", "1.13.0"])
def test_local_ray_older_than_2_59_is_refused_with_the_pip_remedy(version: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``ray`` extra asks for Ray 2.59 (whose local instances ask for a token), but an older
    Ray already installed was used as it was, its local instance open to every client."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'placer-gym[ray]')")
    from placer.batch_ray import check_ray_address

    monkeypatch.setattr(ray, "__version__", version)
    with pytest.raises(Unavailable, match=rf"Ray 2\.59 or later.*found Ray {version}.*pip install"):
        check_ray_address("local")


@pytest.mark.parametrize("version", ["2.59.0", "2.60.1", "3.0.0.dev0", "nightly"])
def test_local_ray_of_2_59_or_later_is_taken(version: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'placer-gym[ray]')")
    from placer.batch_ray import check_ray_address

    monkeypatch.setattr(ray, "__version__", version)
    monkeypatch.delenv("RAY_TMPDIR", raising=False)
    check_ray_address("local")


def test_local_ray_too_old_exits_2_before_any_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'placer-gym[ray]')")
    from typer.testing import CliRunner

    from netlists.designs import builtin_path
    from placer.cli import app

    monkeypatch.setattr(ray, "__version__", "2.58.0")
    suite = tmp_path / "suite"
    shutil.copytree(builtin_path(), suite / "ariane")
    out = tmp_path / "runs"
    result = CliRunner().invoke(app, ["place", "--suite", str(suite), "--algo", "greedy", "--ray", "local", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "pip install" in result.output and not out.exists()

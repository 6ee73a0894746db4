"""``--ray local``'s instance keeps its files where only this user may enter (checked on the
options handed to ``ray.init``; no Ray instance is started here)."""

from __future__ import annotations

import os
import stat
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

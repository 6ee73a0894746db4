"""Make ``import envs`` find placer-gym's environments package first.

``envs`` is also the name of an unrelated PyPI package. This module is loaded at interpreter
start by ``placer_gym_envs_first.pth`` (installed beside it) and puts a finder at the front of
``sys.meta_path`` that resolves the top-level name ``envs`` to the ``envs`` folder that sits
beside placer-gym's own ``netlists`` and ``placer`` packages, wherever those are installed
(editable checkout or site-packages). Anything else is left to the normal machinery.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys


class _PlacerEnvsFinder:
    """Meta-path finder for the single top-level module name ``envs``."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):  # type: ignore[no-untyped-def]
        if fullname != "envs" or path is not None:
            return None
        for entry in sys.path:
            base = entry or os.getcwd()
            init = os.path.join(base, "envs", "__init__.py")
            if (
                os.path.isfile(init)
                and os.path.isfile(os.path.join(base, "netlists", "__init__.py"))
                and os.path.isfile(os.path.join(base, "placer", "__init__.py"))
            ):
                return importlib.util.spec_from_file_location(
                    "envs", init, submodule_search_locations=[os.path.join(base, "envs")]
                )
        return None


def install() -> None:
    if not any(f is _PlacerEnvsFinder for f in sys.meta_path):
        sys.meta_path.insert(0, _PlacerEnvsFinder)


install()

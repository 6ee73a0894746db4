"""Optuna, imported on a thread's own stack so that its first import keeps no caller's frames.

Optuna defers the ImportError of each optional backend it lacks (``try_import``: ``redis``
for its journal storage) and keeps it, traceback included, for as long as the process lives.
That traceback's first frame is the backend module's, whose chain of callers is every frame on
the stack when optuna was first imported. The Optuna tuner is imported lazily, from inside
``make_tuner("optuna", ...)`` inside :func:`~learned_systems.tuning.run_tuning`, so the first
tuning run of a process kept its frames and its caller's alive until exit (the objective, the
results store, an ``IndexObjective``'s keys and queries: 17.6 MB at 2M keys). Imported in
a short-lived thread, the frames kept are that thread's own, whatever optuna version keeps
what. :mod:`learned_systems.tuners.optuna_tpe` and :mod:`~learned_systems.tuners.optuna_state`
take ``optuna`` from here.
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType
from typing import TYPE_CHECKING


def import_on_own_stack(name: str) -> ModuleType:
    """The module ``name``, imported (the first time) in a thread of its own, so that whatever
    the import keeps of its stack (a deferred error's traceback) holds none of the caller's
    frames. Its ImportError, if any, is raised here. Where the system's thread limit refuses
    the thread, the module is imported here, as a plain import would (its frames then kept)."""
    if name in sys.modules:
        return importlib.import_module(name)
    outcome: list[ModuleType | BaseException] = []

    def load() -> None:
        try:
            outcome.append(importlib.import_module(name))
        except BaseException as error:  # handed to the caller, raised there
            outcome.append(error)

    loader = threading.Thread(target=load, name=f"import {name}", daemon=True)
    try:
        loader.start()
    except RuntimeError:  # "can't start new thread": import as a plain import would
        return importlib.import_module(name)
    loader.join()
    result = outcome.pop()
    if isinstance(result, BaseException):
        raise result
    return result


if TYPE_CHECKING:
    import optuna
else:
    optuna = import_on_own_stack("optuna")

__all__ = ["import_on_own_stack", "optuna"]

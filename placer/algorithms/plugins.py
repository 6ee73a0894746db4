"""Plugins: modules (dotted names) or ``.py`` files that register placement methods of one's
own when imported; the CLI and the batch's workers load them by name (a file under an internal
module name derived from its path)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

from netlists.errors import InputError

#: The start of the module name a ``.py`` plugin file is imported under.
PLUGIN_MODULE_PREFIX = "_placer_plugin_"


def plugin_module_name(plugin: str) -> str:
    """The module name a plugin (a dotted name or a ``.py`` file) is imported under."""
    if not plugin.endswith(".py"):
        return plugin
    path = Path(plugin).resolve()
    return f"{PLUGIN_MODULE_PREFIX}{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"


class PluginFileMissing(FileNotFoundError):
    """A ``--plugin`` ``.py`` file that is not there (told apart from a file the plugin itself
    fails to open while it is imported)."""


#: Held while plugins load: a thread skipped a plugin another was still importing (its name is
#: in sys.modules before its code has run) and found its method unknown.
_PLUGINS_LOADING = threading.RLock()


def load_plugins(plugins: Iterable[str]) -> None:
    """Import modules (dotted names or ``.py`` files) that register extra placers."""
    with _PLUGINS_LOADING:
        _load_plugins(plugins)


def _load_plugins(plugins: Iterable[str]) -> None:
    for plugin in plugins:
        if plugin.endswith(".py"):
            path = Path(plugin).resolve()
            if path.exists() and not path.is_file():
                raise InputError(f"plugin {path} is not a file (a folder, a pipe or a device)")
            if not path.is_file():
                raise PluginFileMissing(2, "no such plugin file", str(path))
            module_name = plugin_module_name(plugin)
            if module_name in sys.modules:
                continue
            spec = importlib.util.spec_from_file_location(module_name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:  # a fixed file must load on the next try, not count as loaded
                sys.modules.pop(module_name, None)
                raise
        else:
            importlib.import_module(plugin)

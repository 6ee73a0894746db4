"""The ``placer`` command line: evaluate, generate, place, train, tune, leaderboard.

Each sub-command lives in its own module under :mod:`placer.commands` and registers itself
here; modules of features not installed yet are skipped.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="placer",
    help="Learning-driven chip macro placement and ML-for-systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_COMMAND_MODULES = ("evaluate", "demo", "generate", "place", "plot", "leaderboard", "train", "tune")

for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"placer.commands.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"placer.commands.{_name}":
            raise
        continue
    _module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""``placer methods [NAME] [--plugin P]``: the placement methods and the options each reads.

Without NAME, one entry per method (its summary and option names); with NAME, the method's
documentation: what it does and every option with its default, as ``--option`` takes them.
Both are wrapped to the terminal between words (:mod:`placer.commands.wrapping`).
"""

from __future__ import annotations

import inspect
import re
import sys
from typing import Annotated

import typer

from placer.commands.common import UsageError, clean_errors, load_plugins_named
from placer.commands.wrapping import fill, reflow, terminal_width

#: How far a wrapped line of the list (or of a method's option names) is indented.
_HANG = "    "


def register(app: typer.Typer) -> None:
    app.command("methods")(methods_command)


def method_doc(cls: type) -> str:
    """A method's documentation: its class docstring, or its module's when only that one
    lists the options (``rl``). Its own docstring only: a plugin class without one was
    documented by the base class's ("Base class of placement methods")."""
    own = cls.__dict__.get("__doc__")
    doc = inspect.cleandoc(own) if isinstance(own, str) else ""
    module_doc = inspect.getdoc(sys.modules.get(cls.__module__)) or ""
    if ("Options" not in doc and "Options" in module_doc) or "see module docstring" in doc:
        doc = f"{doc}\n\n{module_doc}".strip()
    return _plain(doc) or "(undocumented)"


def _plain(doc: str) -> str:
    """reStructuredText markup read as text on a terminal: ``x`` as `x`, :func:`~a.b` as `b`,
    :mod:`a.b` as `a.b` (the roles and double backticks were printed as they stand)."""
    doc = re.sub(r":[a-z]+:`~[\w.]*?\.?(\w+)`", r"`\1`", doc)
    doc = re.sub(r":[a-z]+:`([^`]+)`", r"`\1`", doc)
    return doc.replace("``", "`")


@clean_errors
def methods_command(
    name: Annotated[str | None, typer.Argument(help="a method to document (default: list them all)")] = None,
    plugin: Annotated[
        list[str] | None,
        typer.Option("--plugin", help="module or .py file registering extra methods (repeatable)"),
    ] = None,
) -> None:
    """List the placement methods and their options, or document one (NAME)."""
    from placer.algorithms.base import available_placers, method_source, placer_class

    load_plugins_named(list(plugin or []))
    if name is not None:
        try:
            cls = placer_class(name)
        except KeyError as exc:
            raise UsageError(str(exc.args[0])) from None
        names = cls.option_names
        width = terminal_width()  # (the docstrings, laid out at ~100 columns, filled again to it)
        typer.echo(f"{name}\n\n{reflow(method_doc(cls), width)}\n")
        typer.echo(fill("option names: " + (", ".join(sorted(names)) if names is not None else "not declared (any)"),
                        width, later=_HANG))
        shared = sorted(  # a method taking another's options (global_refine: refine's) documents only its own
            other for other in available_placers()  # (built-in ones: a plugin's few names matched too)
            if other != name and names and (other_names := placer_class(other).option_names)
            and not method_source(name) and not method_source(other)
            and set(other_names) < set(names)
        )
        for other in shared:
            typer.echo(fill(f"it takes the options of {other} too: `placer methods {other}` documents them, "
                            "defaults included", width, later=_HANG))
        return
    width = terminal_width()
    for method in available_placers():
        cls = placer_class(method)
        summary = method_doc(cls).split("\n", 1)[0]
        listed = ", ".join(sorted(cls.option_names)) if cls.option_names is not None else "any"
        typer.echo(fill(f"{method}: {summary}", width, later="  "))  # (under it: its options, at 4)
        typer.echo(fill(f"options: {listed or 'none'}", width, first=_HANG, later=_HANG + "  "))
    typer.echo()
    typer.echo(fill("`placer methods NAME` documents one (defaults included); give options to `placer "
                    "place` as --option key=value or --option NAME.key=value.", width))

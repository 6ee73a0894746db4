"""The errors learned_systems raises for the user to read: the same classes as every package's.

:class:`InputError` (a ValueError: the caller's input is refused) and :class:`Unavailable` (a
RuntimeError: this machine or its environment cannot do what was asked, a program missing or
a server that did not start) are :mod:`netlists.errors`' own, not copies: a caller (the
``placer`` CLI, a script) tells a refusal meant for the user from a bug with one test,
whichever package raised it. ``netlists`` is the lowest layer and imports nothing of ours, so
learned_systems may read it (:mod:`learned_systems.sosd` already writes through
``netlists.formats.textio``) while still importing nothing of ``placer``.
"""

from __future__ import annotations

from netlists.errors import REPORTED_ERRORS, InputError, Unavailable, error_kind

__all__ = ["REPORTED_ERRORS", "InputError", "Unavailable", "error_kind"]

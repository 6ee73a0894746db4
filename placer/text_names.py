"""Whether a file name or path read from the system can be kept as text, and why not.

A file name is bytes. Python reads it in the file-system encoding (UTF-8 under a UTF-8 locale)
and keeps bytes that do not decode as surrogate escapes: such a name opens files as any other,
but it cannot be written as UTF-8 text (a row of ``results.sqlite``, TensorBoard's event-file
names), where encoding it fails. Its two causes have two cures: bytes that are not UTF-8 at all
(the name must change), or UTF-8 bytes that this process reads in another encoding (a non-UTF-8
locale: run it under a UTF-8 one). The commands refuse such a name before any work where it
would have to be kept as text, and say which cause it is.
"""

from __future__ import annotations

import os
import sys

from netlists.errors import InputError


def encodes_as_utf8(name: str) -> bool:
    """Whether ``name`` can be encoded as UTF-8 at all (it holds no surrogate escapes): enough
    where only Python itself reads it back (a plugin's path, compiled under it)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_text(name: str) -> bool:
    """Whether ``name`` can be written as UTF-8 text that names the same file: it encodes as
    UTF-8, and to the bytes it was read from. Under a non-UTF-8 file-system encoding (latin-1)
    every byte decodes, so "/tmp/x_\xe4" encoded, but TensorBoard opened its UTF-8 form,
    another path ("No such file or directory" mid-run)."""
    try:
        return os.fsencode(name) == name.encode("utf-8")
    except UnicodeEncodeError:  # (surrogate escapes, or not a name of this encoding: made in Python)
        return False


def name_bytes(name: str) -> bytes:
    """The bytes ``name`` was read from (what a message shows: ``b'/tmp/p\\xff dir'``)."""
    try:
        return os.fsencode(name)
    except UnicodeEncodeError:  # (a surrogate no file name decodes to: made in Python)
        return name.encode("utf-8", "backslashreplace")


def why_not_text(name: str, cure: str) -> str:
    """Why ``name`` (read from the system; see :func:`is_text`) is not text: "not UTF-8 text;
    ``cure``" where its bytes are not UTF-8 (``cure``: what to rename or leave out), else that
    this process reads file names in a non-UTF-8 encoding, and how to run it under a UTF-8 one
    (a folder called "d\u00e9sign" was said not to be UTF-8 under LC_ALL=C; a path with a byte
    0xff was said to need a UTF-8 locale under C.UTF-8)."""
    try:
        name_bytes(name).decode("utf-8")
    except UnicodeDecodeError:
        return f"not UTF-8 text; {cure}"
    return (f"UTF-8 text, but this process reads file names as {sys.getfilesystemencoding()} "
            "(a non-UTF-8 locale): run it under a UTF-8 one (PYTHONUTF8=1, or LC_ALL=C.UTF-8)")


def require_text_path(path: str | os.PathLike[str], what: str, cure: str) -> None:
    """Refuse (InputError, naming ``what`` and the path's bytes) a path that cannot be kept as
    text, before any work: ``what`` names it (``--out``, ``suite folder``), ``cure`` says what
    to do where its bytes are not UTF-8."""
    text = os.fspath(path)
    if not is_text(text):
        raise InputError(f"{what} {name_bytes(text)!r}: its path is {why_not_text(text, cure)}")

"""What the PostgreSQL programs run with: the C locale, and PLACER_PG_USER read as other
variables are (empty: unset)."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys

import pytest

from learned_systems.config.postgres_server import DEFAULT_USER, _RunAs, server_environment


def test_the_programs_run_under_the_c_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """pgbench's output is read for its English "tps = ": a build with translations printed it
    in the user's language (LC_ALL, LC_MESSAGES, gettext's LANGUAGE), and its figures with
    the locale's decimal mark (LC_NUMERIC)."""
    for name, value in {"LC_ALL": "fr_FR.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8", "LC_NUMERIC": "de_DE.UTF-8",
                        "LANG": "de_DE.UTF-8", "LANGUAGE": "fr:de", "PGOPTIONS": "-c work_mem=77MB"}.items():
        monkeypatch.setenv(name, value)
    env = server_environment()
    assert env["LC_ALL"] == "C"  # (over every LC_* and LANG; gettext ignores LANGUAGE under C)
    assert "LANGUAGE" not in env and "PGOPTIONS" not in env
    assert env["PATH"] == os.environ["PATH"]  # (the rest kept)
    shown = _RunAs(None, None).run([sys.executable, "-c", "import os; print(os.environ['LC_ALL'])"])
    assert shown.stdout.strip() == "C"


def test_an_empty_server_user_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """PLACER_PG_USER= (set empty, as `PLACER_PG_USER=$UNSET`) was refused as "no user name to
    create", where every other empty variable reads as unset."""
    asked: list[str] = []

    def lookup(user: str) -> pwd.struct_passwd:
        asked.append(user)
        return pwd.struct_passwd((user, "x", 999, 998, "", "/", "/usr/sbin/nologin"))

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("PLACER_PG_USER", "")
    monkeypatch.setattr(pwd, "getpwnam", lookup)
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: pwd.struct_passwd((DEFAULT_USER, "x", uid, 998, "", "/", "")))
    monkeypatch.setattr(subprocess, "run", lambda args, **k: pytest.fail(f"ran {args}"))
    assert _RunAs.resolve() == _RunAs(999, 998)
    assert asked == [DEFAULT_USER]

"""A path that cannot be kept as text is refused before any work, with its real cause.

Under a UTF-8 locale, ``placer place --suite "/tmp/p\\xff dir/suite"`` placed its first run,
then failed writing the run's row: "... this process reads file names as utf-8 (a non-UTF-8
locale); run it under a UTF-8 one" (the locale was UTF-8: the path's byte 0xff was the
problem), leaving results.sqlite, a lock file and a "placing 0/1" bar. ``placer train --out``
such a path failed the same way in TensorBoard's writer, after making the folder and its
config.json.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from netlists.errors import InputError
from placer.text_names import encodes_as_utf8, is_text, require_text_path, why_not_text


def _not_utf8(folder: Path, name: bytes = b"p\xff dir") -> Path:
    """``folder/NAME`` whose name is not UTF-8 (read back as a surrogate escape), made."""
    path = Path(os.fsdecode(os.fsencode(folder) + b"/" + name))
    path.mkdir()
    return path


def _run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    from placer import cli

    monkeypatch.setattr(sys, "argv", ["placer", *args])
    with pytest.raises(SystemExit) as ended:
        cli.main()
    return ended.value.code  # type: ignore[return-value]


@pytest.mark.skipif(sys.getfilesystemencoding().lower().replace("-", "") != "utf8", reason="reads a UTF-8 locale's names")
def test_a_byte_that_is_not_utf8_is_named_as_such_not_as_the_locale(tmp_path: Path) -> None:
    path = str(_not_utf8(tmp_path))
    assert not is_text(path) and is_text(str(tmp_path))
    assert why_not_text(path, "rename it") == "not UTF-8 text; rename it"
    with pytest.raises(InputError) as refused:
        require_text_path(path, "--out", "rename it")
    assert str(refused.value) == f"--out {os.fsencode(path)!r}: its path is not UTF-8 text; rename it"
    require_text_path(tmp_path / "d\u00e9s", "--out", "rename it")  # (UTF-8 text: taken)


def test_utf8_bytes_read_under_another_locale_are_named_as_the_locale() -> None:
    """As a non-UTF-8 locale reads the UTF-8 name "tr\u00e2in" (made here from its bytes)."""
    name = "/runs/tr\udcc3\udca2in"
    assert not is_text(name)
    assert why_not_text(name, "rename it").endswith(
        "(a non-UTF-8 locale): run it under a UTF-8 one (PYTHONUTF8=1, or LC_ALL=C.UTF-8)"
    )


def test_a_suite_under_a_path_that_is_not_utf8_is_refused_before_any_run(
    tmp_path: Path, design_writer: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    suite = _not_utf8(tmp_path) / "suite"
    design_writer(suite / "tiny", seed=1)
    runs = tmp_path / "runs"
    args = ["place", "--suite", str(suite), "--algo", "greedy", "--budget-s", "0.2", "--jobs", "1", "--quiet"]
    assert _run_cli([*args, "--out", str(runs)], monkeypatch) == 2
    err = capsys.readouterr().err
    assert err == (f"placer: error: suite folder {os.fsencode(suite)!r}: its path is not UTF-8 text; "
                   "results.sqlite keeps it as text: rename that folder, or copy the suite to another path\n")
    assert not runs.exists()  # (no results.sqlite, no lock file: nothing was run)


def test_train_refuses_such_an_out_before_making_the_run_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _not_utf8(tmp_path) / "train"
    args = ["train", "--netlist", "default", "--out", str(out), "--timesteps", "64", "--n-envs", "1",
            "--set", "n_steps=32", "--set", "batch_size=16", "--device", "cpu", "--no-progress"]
    assert _run_cli(args, monkeypatch) == 2
    assert capsys.readouterr().err.startswith(f"placer: error: --out {os.fsencode(out)!r}: its path is not UTF-8 text; ")
    assert not out.exists()


@pytest.mark.skipif(sys.getfilesystemencoding().lower().replace("-", "") != "utf8", reason="reads a UTF-8 locale's names")
def test_a_plugin_file_under_such_a_path_is_named_with_its_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # it failed as "could not load it: UnicodeEncodeError: 'utf-8' codec can't encode character"
    plugin = _not_utf8(tmp_path) / "methods.py"
    plugin.write_text("x = 1\n")
    args = ["place", "default", "--algo", "greedy", "--budget-s", "0.2", "--plugin", str(plugin),
            "--out", str(tmp_path / "out.plc")]
    assert _run_cli(args, monkeypatch) == 2
    assert capsys.readouterr().err == (
        f"placer: error: --plugin {os.fsencode(plugin)!r}: its path is not UTF-8 text; Python compiles a plugin "
        "under its path as text: rename that folder or file, or copy the plugin to another path\n")
    assert not (tmp_path / "out.plc").exists()


def _latin1_fsencode(name: str) -> bytes:
    """``os.fsencode`` as a latin-1 locale has it (every byte decodes there)."""
    return name.encode("iso8859-1", "surrogateescape")


def test_a_name_whose_utf8_form_is_another_file_is_not_text(monkeypatch: pytest.MonkeyPatch) -> None:
    # under LC_ALL=de_DE.ISO-8859-1 "/tmp/x_\xe4" decoded without an escape: it was taken, and
    # TensorBoard then failed mid-run opening its UTF-8 form, another path
    monkeypatch.setattr(os, "fsencode", _latin1_fsencode)
    name = "/tmp/x_\u00e4/tr"
    assert encodes_as_utf8(name) and not is_text(name)
    assert is_text("/tmp/x_a/tr")  # (ASCII: the same bytes in either encoding)
    with pytest.raises(InputError) as refused:
        require_text_path(name, "--out", "rename it")
    assert str(refused.value) == "--out b'/tmp/x_\\xe4/tr': its path is not UTF-8 text; rename it"
    utf8_read_as_latin1 = "/tmp/x_\u00c3\u00a4"  # (the bytes of "x_\u00e4" in UTF-8, read as latin-1)
    assert not is_text(utf8_read_as_latin1)
    assert why_not_text(utf8_read_as_latin1, "rename it").endswith("run it under a UTF-8 one (PYTHONUTF8=1, or LC_ALL=C.UTF-8)")


@pytest.fixture
def latin1_locale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """An environment under a latin-1 locale built here (LOCPATH): skips where localedef or its
    sources are missing."""
    if not (shutil.which("localedef") and Path("/usr/share/i18n/locales/de_DE").is_file()):
        pytest.skip("localedef or its locale sources not installed: no latin-1 locale can be made")
    made = tmp_path_factory.mktemp("locales")
    built = subprocess.run(["localedef", "-i", "de_DE", "-f", "ISO-8859-1", str(made / "de_DE.ISO-8859-1")],
                           capture_output=True, text=True, timeout=120)
    if not (made / "de_DE.ISO-8859-1").is_dir():
        pytest.skip(f"localedef could not build a latin-1 locale: {built.stderr.strip()[:200]}")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUTF8", "PYTHONIOENCODING") and not k.startswith("LC_")}
    yield {**env, "LOCPATH": str(made), "LC_ALL": "de_DE.ISO-8859-1"}


def test_train_under_a_latin1_locale_refuses_a_non_ascii_out_before_any_run(
    tmp_path: Path, latin1_locale: dict[str, str]
) -> None:
    out = os.fsencode(tmp_path) + b"/x_\xe4/tr"
    args = [sys.executable, "-m", "placer", "train", "--netlist", "default", "--out", out, "--timesteps", "64",
            "--n-envs", "1", "--set", "n_steps=32", "--set", "batch_size=16", "--device", "cpu", "--no-progress"]
    done = subprocess.run(args, capture_output=True, env=latin1_locale, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(b"placer: error: --out b'" + out.replace(b"\xe4", b"\\xe4") + b"': its path is not UTF-8")
    assert not os.path.exists(os.path.dirname(out))  # (no run folder left)

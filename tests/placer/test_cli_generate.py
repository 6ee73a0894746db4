"""``placer generate``: files written, read back identical to the generator's output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from netlists.formats import circuit_training, plc
from netlists.generate import generate
from placer.commands.generate import register


def make_app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # keeps "generate" a named sub-command
        pass

    return app


def test_generate_writes_a_design_that_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "design"
    result = CliRunner().invoke(
        make_app(),
        ["generate", str(out), "--hard", "3", "--soft", "10", "--ports", "5", "--seed", "7"],
    )
    assert result.exit_code == 0, result.output
    assert (out / "netlist.pb.txt").is_file() and (out / "initial.plc").is_file()

    expected, expected_placement = generate(3, 10, 5, seed=7)
    netlist = circuit_training.read_netlist(out / "netlist.pb.txt")
    canvas, placement, _ = plc.read_plc(out / "initial.plc", netlist)
    assert netlist.names == expected.names
    np.testing.assert_array_equal(netlist.node_type, expected.node_type)
    np.testing.assert_array_equal(netlist.net_pins, expected.net_pins)
    np.testing.assert_array_equal(netlist.net_ptr, expected.net_ptr)
    np.testing.assert_array_equal(netlist.net_weight, expected.net_weight)
    np.testing.assert_allclose(netlist.pin_dx, expected.pin_dx)
    assert canvas == expected.canvas
    m = expected.placeable
    np.testing.assert_allclose(placement.x[m], expected_placement.x[m])
    np.testing.assert_allclose(placement.y[m], expected_placement.y[m])


def test_generate_rejects_an_empty_design(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        make_app(), ["generate", str(tmp_path), "--hard", "0", "--soft", "0"]
    )
    assert result.exit_code == 2


def test_a_design_without_nets_is_written_with_a_note(tmp_path: Path) -> None:
    result = CliRunner().invoke(make_app(), ["generate", str(tmp_path / "d"), "--hard", "1", "--soft", "0", "--ports", "0"])
    assert result.exit_code == 0, result.output
    assert "0 nets" in result.output and "note: the design has no nets" in " ".join(result.output.split())
    busy = CliRunner().invoke(make_app(), ["generate", str(tmp_path / "e"), "--hard", "3", "--soft", "10"])
    assert "no nets" not in busy.output


def test_generated_plc_header_states_the_real_costs(tmp_path: Path) -> None:
    from netlists.formats.plc import read_plc
    from netlists.io import load_design
    from placer.cost.proxy import evaluate

    result = CliRunner().invoke(make_app(), ["generate", str(tmp_path / "g"), "--hard", "3",
                                             "--soft", "6", "--ports", "4", "--seed", "3"])  # fmt: skip
    assert result.exit_code == 0, result.output
    netlist, placement = load_design(tmp_path / "g" / "netlist.pb.txt")
    header = read_plc(tmp_path / "g" / "initial.plc", netlist)[2]
    cost = evaluate(netlist, placement)
    assert header.costs["density_cost"] == pytest.approx(cost.density, abs=1e-4)
    assert header.costs["wirelength"] == pytest.approx(cost.hpwl, abs=1e-3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hard", str(10**19)], "--hard"),  # past int64: a traceback before
        (["--soft", "100001"], "--soft"),
        (["--name", "a\nb"], "printable text on one line"),  # wrote an unreadable initial.plc
    ],
)
def test_generate_refuses_sizes_and_names_it_cannot_write(tmp_path: Path, args, message) -> None:
    result = CliRunner().invoke(make_app(), ["generate", str(tmp_path / "d"), *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "d").exists()


def test_the_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    import time

    args = ["--hard", "3", "--soft", "4", "--ports", "2", "--seed", "5"]
    first = CliRunner().invoke(make_app(), ["generate", str(tmp_path / "a"), *args])
    time.sleep(1.1)  # a clock line in the header would now differ
    second = CliRunner().invoke(make_app(), ["generate", str(tmp_path / "b"), *args])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    for name in ("netlist.pb.txt", "initial.plc"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_an_output_file_that_cannot_be_written_is_found_before_anything_is(tmp_path: Path) -> None:
    """initial.plc being a folder was found after netlist.pb.txt was written, and named as the
    temporary file the rename came from (initial.tmp.plc)."""
    (tmp_path / "g" / "initial.plc").mkdir(parents=True)
    result = CliRunner().invoke(make_app(), ["generate", str(tmp_path / "g"), "--hard", "2", "--soft", "2"])
    assert result.exit_code == 2 and "initial.plc is a folder" in result.output, result.output
    assert not (tmp_path / "g" / "netlist.pb.txt").exists()


def test_a_failed_write_leaves_the_earlier_pair_as_it_was(tmp_path: Path, monkeypatch) -> None:
    """The new netlist.pb.txt was written before initial.plc failed: a 10-macro netlist beside
    a 3-macro placement that no command could read together."""
    out = tmp_path / "g"
    first = CliRunner().invoke(make_app(), ["generate", str(out), "--hard", "3", "--soft", "5"])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    from netlists.formats import textio

    real_open = textio.open_text

    def full_disk(path, mode="w"):  # the netlist written, then the disk full at the placement
        if Path(path).name.startswith(".initial.plc"):
            raise OSError(28, "No space left on device")
        return real_open(path, mode)

    monkeypatch.setattr(textio, "open_text", full_disk)
    second = CliRunner().invoke(make_app(), ["generate", str(out), "--hard", "10", "--soft", "40"])
    assert second.exit_code == 2 and "No space left" in second.output, second.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no staging folder either


def test_a_broken_symbolic_link_as_out_dir_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(tmp_path / "gone" / "d")
    result = CliRunner().invoke(make_app(), ["generate", str(tmp_path / "link")])
    assert result.exit_code == 2 and "broken symbolic link" in result.output, result.output

"""Method option values are checked when a method is built, with one clear line each."""

from __future__ import annotations

import math

import numpy as np
import pytest
from typer.testing import CliRunner

from placer.algorithms.base import get_placer


@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        ("sa", {"moves": 3}, "option 'moves' takes a dict of move weights"),
        ("sa", {"moves": {"swapp": 1}}, "option 'moves': no move 'swapp'"),
        ("sa", {"moves": {"swap": 0, "shift": 0}}, "every weight is 0"),
        ("sa", {"moves": {"swap": -1}}, "option 'moves.swap' takes a finite number"),
        ("sa", {"moves": {"swap": 1e308, "shift": 1e308}}, "option 'moves': the weights add up past"),
        ("greedy", {"density_weight": -1.0}, "option 'density_weight' takes a finite number >= 0"),  # sought density
        ("sa", {"max_steps": "abc"}, "option 'max_steps' takes a whole number >= 1"),
        ("sa", {"max_steps": -5}, "option 'max_steps' takes a whole number >= 1"),
        ("sa", {"start_factor": math.nan}, "option 'start_factor' takes a finite number"),
        ("refine", {"heat_every": 2.5}, "option 'heat_every' takes a whole number >= 0"),
        ("refine", {"soft": "maybe"}, "option 'soft' takes true or false"),
        ("refine", {"lookahead_quantile": 2}, r"option 'lookahead_quantile' takes a finite number in \[0, 1\]"),
        ("global_refine", {"analytical": {"bins": 1}}, "option 'analytical.bins' takes a whole number in \\[2, 2048\\]"),
        ("greedy", {"refine": {"max_steps": 0}}, "option 'refine.max_steps'"),
        ("greedy", {"fd": "nope"}, "option 'fd' takes true or false"),
        ("analytical", {"dtype": "float16"}, "option 'dtype' takes one of float64, float32"),
        ("analytical", {"max_iterations": math.inf}, "option 'max_iterations' takes a whole number"),
        ("fd", {"repulsions": []}, "option 'repulsions' takes a non-empty list of numbers"),
        ("fd", {"repulsions": [0.5, -1]}, r"option 'repulsions\[1\]' takes a finite number >= 0, got -1"),
        ("fd", {"start_move": 0}, r"option 'start_move' takes a finite number > 0, got 0"),  # divided by
        ("rl", {"samples": -1}, "option 'samples' takes a whole number >= 0"),
        # torch's own error was a traceback from inside the run
        ("analytical", {"device": "bogus"}, "option 'device': device must be auto, cpu, cuda"),
        ("global_refine", {"analytical": {"device": "tpu"}}, "option 'analytical.device'"),
        ("analytical", {"device": 3}, "option 'device' takes a device name"),
        # past the float range: OverflowError from math.isfinite, a traceback at the CLI
        ("sa", {"max_steps": 10**400}, "option 'max_steps' takes a whole number >= 1"),
        ("greedy", {"density_weight": 10**400}, "option 'density_weight' takes a finite number"),
        ("sa", {"moves": {"swap": 10**400}}, "option 'moves.swap' takes a finite number"),
        # accepted and then ignored: a setting that made no difference
        ("greedy", {"refine": {"max_steps": 5}}, "option 'refine' acts only with soft_refine=true"),
        ("rl", {"refine": {"max_steps": 5}}, "option 'refine' acts only with soft_refine=true"),
        ("rl", {"sample_share": 0.3}, "option 'sample_share' acts only with soft_refine=true"),
        # each optimiser's step option, given to the other one, was ignored
        ("analytical", {"learning_rate": 0.3}, "option 'learning_rate' acts only with optimizer=adam"),
        ("analytical", {"optimizer": "adam", "max_step_bins": 2.0}, "'max_step_bins' acts only with optimizer=nesterov"),
        ("global_refine", {"analytical": {"learning_rate": 0.3}},
         "option 'analytical.learning_rate' acts only with analytical.optimizer=adam"),
    ],
)
def test_bad_values_are_refused_when_the_method_is_built(method, options, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        get_placer(method, **options)


def test_good_values_pass_and_text_flags_are_read() -> None:
    """Good values build; refine's soft="no" (text, as from --option) keeps every soft macro
    where it was, while the default moves them (ignoring the flag passed every other test)."""
    from netlists.generate import generate

    for method, options in [("sa", {"moves": {"swap": 1, "shift": 0}, "max_steps": 10, "start_factor": 0.5}),
                            ("global_refine", {"analytical": {"bins": 64, "dtype": "float32"}}),
                            ("fd", {"repulsions": [0.5, 1]})]:
        assert get_placer(method, **options).name == method
    netlist, placement = generate(4, 12, 4, seed=3)
    soft = netlist.soft_macros
    kept = get_placer("refine", soft="no", heat_every=0, max_steps=300).place(netlist, placement, budget_s=20, seed=0)
    np.testing.assert_array_equal(kept.x[soft], placement.x[soft])
    np.testing.assert_array_equal(kept.y[soft], placement.y[soft])
    moved = get_placer("refine", heat_every=0, max_steps=300).place(netlist, placement, budget_s=20, seed=0)
    assert np.any(moved.x[soft] != placement.x[soft]) or np.any(moved.y[soft] != placement.y[soft])


def test_a_null_nested_option_means_the_defaults() -> None:
    """``--option analytical=null`` passed the check (null: not given) and then crashed the run."""
    from netlists.generate import generate

    netlist, placement = generate(3, 4, 3, seed=0)
    result = get_placer("global_refine", analytical=None, max_steps=20).place(netlist, placement, budget_s=5, seed=0)
    assert np.isfinite(result.x).all()


def test_a_device_this_machine_lacks_is_refused_not_run_on_the_cpu_or_crashed() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    from netlists.generate import generate

    netlist, placement = generate(4, 8, 4, seed=0)
    placer = get_placer("analytical", device="cuda")  # a batch may run it on other machines
    with pytest.raises(ValueError, match="device 'cuda': CUDA is not available"):
        placer.place(netlist, placement, budget_s=2)
    get_placer("analytical", device="auto").place(netlist, placement, budget_s=1)  # the CPU


def test_a_text_false_turns_greedys_force_directed_step_off() -> None:
    """``fd=no`` used to count as true (a non-empty string); it is the same as ``fd=false``."""
    from netlists.generate import generate
    from placer.cost.proxy import evaluate

    netlist, placement = generate(8, 30, 8, seed=1)
    costs = {
        text: evaluate(netlist, get_placer("greedy", fd=text).place(netlist, placement, budget_s=5)).proxy
        for text in ("no", "false", "yes")
    }
    assert costs["no"] == costs["false"] != costs["yes"]


def test_the_cli_gives_one_line_for_a_bad_value(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from netlists.formats.circuit_training import write_netlist
    from netlists.generate import generate
    from placer.cli import app

    netlist, _ = generate(3, 6, 4, seed=1)
    path = write_netlist(netlist, tmp_path / "netlist.pb.txt")
    for option, message in (("moves=3", "option 'moves' takes a dict"), ("max_steps=abc", "option 'max_steps'")):
        result = CliRunner().invoke(
            app, ["place", str(path), "--algo", "sa", "--option", option, "--budget-s", "0.2", "--out", str(tmp_path / "o.plc")]
        )
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
        assert not (tmp_path / "o.plc").exists()


def test_soft_macro_refinement_leaves_hard_macros_alone_with_every_move() -> None:
    """mirror and shuffle drew from every hard macro, whatever the pool: the soft-macro step of
    greedy and rl turned hard macros around."""
    from netlists.generate import generate
    from placer.algorithms.legalize import legalize
    from placer.algorithms.refine import refine_soft_macros

    netlist, placement = generate(12, 40, 8, seed=4)
    start = legalize(netlist, placement)
    moves = {"mirror": 1.0, "shuffle": 1.0, "swap": 1.0, "shift": 1.0}
    out = refine_soft_macros(netlist, start, 30.0, seed=0, options={"moves": moves, "max_steps": 3000})
    hard = netlist.hard_macros
    assert np.array_equal(out.x[hard], start.x[hard]) and np.array_equal(out.y[hard], start.y[hard])
    assert np.array_equal(out.orientation[hard], start.orientation[hard])
    assert not np.array_equal(out.x[netlist.soft_macros], start.x[netlist.soft_macros])

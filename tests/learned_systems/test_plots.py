"""Best-so-far chart of tuning runs: label order, whole trial ticks, runs with no success."""

from __future__ import annotations

from learned_systems.plots import best_so_far_figure


def test_close_baseline_labels_are_stacked_in_the_order_of_their_lines():
    """The upper label names the upper line (it followed the drawing order before)."""
    figure = best_so_far_figure(
        {"rl seed 0": [-2.0, -1.0, 0.0]}, "t",
        baselines={"default": -1.2580, "rule_of_thumb": -1.2638},
    )  # fmt: skip
    offsets = {a.get_text(): a.xyann[1] for a in figure.axes[0].texts}
    assert offsets["rule_of_thumb"] < offsets["default"]


def test_a_one_trial_run_has_whole_number_trial_ticks():
    figure = best_so_far_figure({"random seed 0": [1.0]}, "t")
    ticks = [t for t in figure.axes[0].get_xticks() if 0.5 <= t <= 1.5]
    assert ticks == [1.0]


def test_a_run_where_every_trial_failed_says_so():
    failed = best_so_far_figure({"optuna seed 0": [None] * 5}, "t")
    assert "no successful trial" in [t.get_text() for t in failed.axes[0].texts]
    assert failed.axes[0].get_xlim() == (0.5, 5.5)
    one_success = best_so_far_figure({"optuna seed 0": [None, 2.0]}, "t")
    assert "no successful trial" not in [t.get_text() for t in one_success.axes[0].texts]


def test_a_curve_starting_far_below_keeps_the_axis_on_the_rest_and_says_so():
    """A first trial at -31,800 beside baselines near -2 flattened every line to the top edge."""
    curves = {"random seed 0": [-2.2, -2.19, -2.1], "random seed 1": [-31800.0, -1.9, -1.8]}
    figure = best_so_far_figure(curves, "t", baselines={"default": -2.19})
    axes = figure.axes[0]
    low, high = axes.get_ylim()
    assert -3.0 < low < -2.2 and -1.8 < high < -1.5
    assert [t.get_text() for t in axes.texts if "below the axis" in t.get_text()] == [
        "1 earlier point(s) below the axis (lowest -3.18e+04)"
    ]
    plain = best_so_far_figure({"random seed 0": [-2.2, -2.19, -2.1]}, "t", baselines={"default": -2.19})
    assert not any("below the axis" in t.get_text() for t in plain.axes[0].texts)

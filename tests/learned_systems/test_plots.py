"""Best-so-far chart of tuning runs: label order, whole trial ticks, runs with no success."""

from __future__ import annotations

from learned_systems.plots import best_so_far_figure


def test_baselines_are_named_with_their_values_in_the_legend_off_the_data():
    """Labels written at the lines' left ends sat under the curves, which all start near the
    baselines: they are in the legend now, highest first, close lines told apart by dashes."""
    figure = best_so_far_figure(
        {"rl seed 0": [-2.0, -1.0, 0.0]}, "t",
        baselines={"default": -1.2580, "rule_of_thumb": -1.2638},
    )  # fmt: skip
    axes = figure.axes[0]
    assert not axes.texts
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    assert legend == ["rl seed 0", "default (-1.26)", "rule_of_thumb (-1.26)"]
    dashes = {line.get_label(): line.get_linestyle() for line in axes.get_lines()}
    assert dashes["default (-1.26)"] != dashes["rule_of_thumb (-1.26)"]


def test_pdf_and_svg_pictures_are_the_same_bytes_for_the_same_curves(tmp_path):
    """A PDF carried its creation date and an SVG its date and random element ids."""
    from learned_systems.plots import plot_best_so_far

    for suffix in (".pdf", ".svg", ".png"):
        first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
        for path in (first, second):
            plot_best_so_far({"random seed 0": [1.0, 1.2]}, path, "t", baselines={"default": 1.0})
        assert first.read_bytes() == second.read_bytes(), suffix
        assert b"CreationDate" not in first.read_bytes() and b"<dc:date>" not in first.read_bytes()


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


def test_every_text_of_the_chart_lies_inside_the_picture():
    """tune's index chart put what a score is in its y label, which ran out of the picture;
    a long legend below the axes must fit too (the figure grows with it)."""
    title = "index lognormal\nscore = -(relative lookup steps (counted) + size in % of the keys)"
    curves = {f"tuner {k} seed {s}": [-5.0 + k, -4.0 + k] for k in range(3) for s in range(4)}
    baselines = {"default (seed 0)": -6.0, "rule_of_thumb (seed 0)": -5.5, "default (seed 1)": -6.2}
    figure = best_so_far_figure(curves, title, baselines=baselines)
    figure.canvas.draw()
    renderer, inside = figure.canvas.get_renderer(), figure.bbox
    axes = figure.axes[0]
    for artist in (axes.title, axes.yaxis.label, axes.xaxis.label, axes.get_legend()):
        box = artist.get_window_extent(renderer)
        assert inside.x0 - 1 <= box.x0 and box.x1 <= inside.x1 + 1 and inside.y0 - 1 <= box.y0 and box.y1 <= inside.y1 + 1, artist


def test_baselines_beyond_the_dash_patterns_and_ones_without_a_value():
    """Every baseline is drawn (five outnumber the dash patterns); one without a value (a seed
    whose rule of thumb failed) is left out, not a TypeError."""
    baselines = {f"b{k}": float(k) for k in range(5)} | {"none": None}
    lines = best_so_far_figure({"random seed 0": [1.0, 2.0]}, "t", baselines=baselines).axes[0].get_lines()
    assert sorted(line.get_label() for line in lines if line.get_label().startswith("b")) == [
        f"b{k} ({k:.3g})" for k in range(5)]

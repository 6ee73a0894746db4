"""Best-so-far chart of tuning runs: label order, whole trial ticks, runs with no success."""

from __future__ import annotations

import numpy as np
import pytest

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
    assert legend == ["rl seed 0", "default: -1.26", "rule_of_thumb: -1.26"]
    dashes = {line.get_label(): line.get_linestyle() for line in axes.get_lines()}
    assert dashes["default: -1.26"] != dashes["rule_of_thumb: -1.26"]


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
    assert _note(figure) == (
        "1 earlier point(s) below the axis, marked \N{BLACK DOWN-POINTING TRIANGLE} (lowest -3.18e+04)"
    )
    plain = best_so_far_figure({"random seed 0": [-2.2, -2.19, -2.1]}, "t", baselines={"default": -2.19})
    assert _note(plain) == ""


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
        f"b{k}: {k:.3g}" for k in range(5)]


def _note(figure):  # type: ignore[no-untyped-def]
    """The chart's note on points below the axis ("" when none), wherever it is drawn."""
    texts = [*figure.texts, *figure.axes[0].texts]
    if (legend := figure.axes[0].get_legend()) is not None:
        texts.append(legend.get_title())
    return "".join(t.get_text() for t in texts if "below the axis" in t.get_text())


def _line(figure, label):  # type: ignore[no-untyped-def]
    return next(line for line in figure.axes[0].get_lines() if line.get_label() == label)


def test_best_so_far_curves_are_steps_and_an_episodes_rewards_a_plain_line():
    """A best so far holds until a trial beats it: drawn as slopes between trials, it read as
    scores between them. An env's episode counts steps, not trials, and its rewards are
    values as measured."""
    from learned_systems.plots import episode_rewards_figure

    figure = best_so_far_figure({"random seed 0": [1.0, 1.0, 2.0]}, "t", baselines={"default": 1.0})
    assert _line(figure, "random seed 0").get_drawstyle() == "steps-post"
    assert figure.axes[0].get_xlabel() == "trials"
    episode = episode_rewards_figure([-1.4, -666.9, -30.0, -4.7], "index on clustered: step 4 of 4")
    assert _line(episode, "best so far").get_drawstyle() == "steps-post"
    assert _line(episode, "reward").get_drawstyle() == "default"
    assert episode.axes[0].get_xlabel() == "steps"
    assert _note(episode) == "1 point(s) below the axis, marked \N{BLACK DOWN-POINTING TRIANGLE} (lowest -666.9)"
    assert "no successful step" in [t.get_text() for t in episode_rewards_figure([], "empty").axes[0].texts]


def test_one_curves_far_start_hides_no_other_curves_start():
    """optuna's first trial at -30,000 set the axis to the baselines' neighbourhood, and
    random's first three points (-5 to -4) went below it too, unmarked: now only the far point
    is left out, and each curve marks its own hidden points in its colour."""
    curves = {"random seed 0": [-5.0, -4.5, -4.0, -2.0, -1.9], "optuna seed 0": [-30000.0, -2.5, -2.0, -1.8, -1.8]}
    figure = best_so_far_figure(curves, "t", baselines={"default": -2.19})
    axes = figure.axes[0]
    low, high = axes.get_ylim()
    assert low < -5.0 and -1.8 < high < -1.6  # random's start is on the axis, the far point is not
    marks = [line for line in axes.get_lines() if line.get_marker() == "v"]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [1]
    assert marks[0].get_color() == _line(figure, "optuna seed 0").get_color()
    assert _note(figure) == "1 earlier point(s) below the axis, marked \N{BLACK DOWN-POINTING TRIANGLE} (lowest -3e+04)"


def test_ratio_scores_spanning_two_decades_get_a_log_axis():
    """A throughput ratio of 0.13 beside 20.3 left every curve but one flat at the bottom (the
    config-tuning notebook draws them on a log axis)."""
    wide = best_so_far_figure({"random seed 0": [0.13, 0.5, 20.3], "optuna seed 0": [1.5, 2.2, 2.2]}, "t",
                              baselines={"rule_of_thumb": 14.8, "default": 1.0})
    assert wide.axes[0].get_yscale() == "log" and "log axis" in wide.axes[0].get_ylabel()
    narrow = best_so_far_figure({"random seed 0": [0.9, 1.5, 20.3]}, "t", baselines={"default": 1.0})
    negative = best_so_far_figure({"random seed 0": [-300.0, -2.0, -1.0]}, "t", baselines={"default": -1.5})
    assert narrow.axes[0].get_yscale() == "linear" and negative.axes[0].get_yscale() == "linear"


def test_each_tuner_has_a_line_style_and_marker_of_its_own_besides_its_colour():
    """Curves differed by colour alone: two tuners' lines could not be told apart by a reader
    who does not see the colours. A tuner's seeds share its line style, each in its own marker
    and colour."""
    curves = {"optuna seed 0": [1.0, 2.0], "optuna seed 1": [1.5, 2.5], "random seed 0": [1.2, 1.3]}
    figure = best_so_far_figure(curves, "t")
    optuna, optuna_1, random = (_line(figure, label) for label in curves)
    assert optuna.get_linestyle() == optuna_1.get_linestyle() and optuna.get_marker() != optuna_1.get_marker()
    assert optuna.get_linestyle() != random.get_linestyle() and optuna.get_marker() != random.get_marker()
    assert len({line.get_color() for line in (optuna, optuna_1, random)}) == 3


@pytest.mark.parametrize("tuners, seeds", [(2, 11), (3, 20), (6, 4)])
def test_no_two_curves_differ_in_colour_alone(tuners: int, seeds: int, contrast) -> None:  # type: ignore[no-untyped-def]
    """A tuner's seeds differed only by colour (red beside green in matplotlib's cycle), and
    seed 0 and seed 10 were the same line: every curve now differs from every other in line
    style, marker or fill, in colour-blind-safe colours that keep off white."""
    from learned_systems.plots import CURVE_COLOURS

    curves = {f"tuner{t} seed {s}": [float(s), float(t + s)] for t in range(tuners) for s in range(seeds)}
    lines = [_line(best_so_far_figure(curves, "t"), label) for label in curves]
    # (get_linestyle says "--" for every dash pattern of one's own)
    looks = {(line._unscaled_dash_pattern, line.get_marker(), line.get_fillstyle()) for line in lines}
    assert len(looks) == len(lines)
    assert {line.get_color() for line in lines} <= set(CURVE_COLOURS)
    assert min(contrast(colour) for colour in CURVE_COLOURS) >= 2.0
    assert all(line.get_marker() != "v" for line in lines)  # (a hidden point's mark)


def test_the_note_on_hidden_points_lies_off_the_data_in_a_readable_grey(contrast):  # type: ignore[no-untyped-def]
    """The note sat inside the axes, over the data, in 3.9:1 grey."""
    curves = {"random seed 0": [-2.2, -2.19, -2.1], "random seed 1": [-31800.0, -1.9, -1.8]}
    figure = best_so_far_figure(curves, "t", baselines={"default": -2.19})
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    (note,) = [t for t in [*figure.texts, *figure.axes[0].texts, figure.axes[0].get_legend().get_title()]
               if "below the axis" in t.get_text()]
    box, data = note.get_window_extent(renderer), figure.axes[0].get_window_extent(renderer)
    assert box.y1 <= data.y0 or box.y0 >= data.y1 or box.x1 <= data.x0 or box.x0 >= data.x1
    assert figure.bbox.y0 - 1 <= box.y0 and box.x0 >= figure.bbox.x0 - 1 and box.x1 <= figure.bbox.x1 + 1
    assert contrast(note.get_color()) >= 4.5


def test_the_csv_twin_holds_the_plotted_points_and_baselines(tmp_path):
    """tune wrote its curves only as a picture."""
    import csv
    import io

    from learned_systems.plots import best_so_far_csv

    curves = {"random seed 0": [None, -2.5, -2.0], "optuna seed 1": [-3.0, -3.0, -1.0 / 3]}
    baselines = {"default, seeds 0-1": -2.25, "rule_of_thumb, seed 0": None}
    rows = list(csv.DictReader(io.StringIO(best_so_far_csv(curves, baselines))))
    figure = best_so_far_figure(curves, "t", baselines=baselines)
    for label in curves:
        line = _line(figure, label)
        assert [(int(r["trial"]), float(r["value"])) for r in rows if r["label"] == label] == list(
            zip(line.get_xdata(), line.get_ydata(), strict=True))
    assert [(r["label"], r["trial"], float(r["value"])) for r in rows if not r["trial"]] == [
        ("default, seeds 0-1", "", -2.25)]


def test_the_csv_twin_writes_numpy_values_as_numbers() -> None:
    """numpy's floats were written as their repr, ``np.float64(1.5)``, which no reader takes
    for a number."""
    import csv
    import io

    from learned_systems.plots import best_so_far_csv

    curves = {"random seed 0": [None, np.float64(1.5), np.float32(0.25), 2]}
    text = best_so_far_csv(curves, {"default": np.float64(-1.0 / 3)})
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["trial"], float(r["value"])) for r in rows] == [("2", 1.5), ("3", 0.25), ("4", 2.0), ("", -1.0 / 3)]
    assert "np." not in text


def test_the_picture_and_its_csv_are_written_as_one_set(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """tune wrote best_so_far.csv apart from the picture: a kill or a failed write between them
    left the new picture beside the earlier run's points (or the reverse)."""
    from learned_systems import plots

    png, csv_path = tmp_path / "best_so_far.png", tmp_path / "best_so_far.csv"
    curves = {"random seed 0": [1.0, 2.0]}
    plots.plot_best_so_far(curves, png, "t", baselines={"default": 0.5}, write_points=True)
    assert png.read_bytes().startswith(b"\x89PNG")
    assert csv_path.read_text() == plots.best_so_far_csv(curves, {"default": 0.5})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def full_disk(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plots, "save_reproducibly", full_disk)
    newer = {"random seed 0": [3.0, 4.0]}
    with pytest.raises(OSError, match="No space left"):
        plots.plot_best_so_far(newer, png, "t", write_points=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # (neither new, no temporary)


def test_the_points_beside_the_picture_are_the_pictures_own(tmp_path):  # type: ignore[no-untyped-def]
    """The points' text was passed in beside the curves, so a caller could write one set of
    points beside a picture of another; they are now derived from the curves drawn, and none
    are written unless asked for."""
    from learned_systems import plots

    png = tmp_path / "best_so_far.png"
    plots.plot_best_so_far({"random seed 0": [1.0]}, png, "t")
    assert not png.with_suffix(".csv").exists()
    curves = {"random seed 0": [None, 1.0], "optuna seed 0": [2.0, 3.0]}
    plots.plot_best_so_far(curves, png, "t", baselines={"rule_of_thumb": 1.5}, write_points=True)
    assert png.with_suffix(".csv").read_text().splitlines() == [
        "label,trial,value", "random seed 0,2,1.0", "optuna seed 0,1,2.0", "optuna seed 0,2,3.0",
        "rule_of_thumb,,1.5"]


def test_baselines_alike_across_seeds_are_one_legend_entry():
    """Eleven seeds' defaults were eleven entries ("default (seed 3) (-1.68)", brackets doubled)."""
    from learned_systems.report import plotted_baselines

    curves = {f"random seed {s}": [1.0] for s in range(11)}
    others = {s: {"default": -1.68, "rule_of_thumb": -1.5 if s == 4 else -1.7} for s in range(1, 11)}
    plotted = plotted_baselines(0, curves, {"default": -1.68, "rule_of_thumb": -1.7}, others)
    assert plotted == {"default, seeds 0-10": -1.68, "rule_of_thumb, seeds 0-3, 5-10": -1.7,
                       "rule_of_thumb, seed 4": -1.5}
    legend = [t.get_text() for t in best_so_far_figure(curves, "t", baselines=plotted).axes[0].get_legend().get_texts()]
    assert "default, seeds 0-10: -1.68" in legend and not any(") (" in text for text in legend)
    assert plotted_baselines(0, {"random seed 0": [1.0]}, {"default": -1.68, "rule_of_thumb": None}, {}) == {
        "default": -1.68}


@pytest.mark.parametrize("title", ["index on uniform: step 3 of 10", "a title\nof two lines", "one\ntwo\nthree"])
@pytest.mark.parametrize("rewards", [[], [-1.0, -2.5, -0.4]])
def test_an_episode_picture_has_even_sides(title: str, rewards: list[float]) -> None:
    """A tuning env's rgb_array frame: 4 + 0.17 inches a legend row high made it 417 pixels,
    and an odd side makes H.264 videos yuv444p, which browsers cannot play; the rows added
    to make a side even are the figure's background."""
    from learned_systems.plots import episode_rewards_figure, episode_rewards_image

    image = episode_rewards_image(rewards, title)
    height, width, channels = image.shape
    assert image.dtype == np.uint8 and channels == 3 and height % 2 == 0 and width % 2 == 0
    figure = episode_rewards_figure(rewards, title)
    drawn_height, drawn_width = (round(side * figure.dpi) for side in figure.get_size_inches()[::-1])
    assert (height - drawn_height, width - drawn_width) == (drawn_height % 2, drawn_width % 2)
    assert (image[drawn_height:] == 255).all() and (image[:, drawn_width:] == 255).all()  # white

"""Best-so-far curves of tuning runs, one line per tuner and seed (matplotlib, headless: the
figure is built on the Agg canvas without pyplot): drawn as steps in colour-blind-safe colours,
each tuner in a line style and each of its seeds in a marker of its own, ratio scores spanning
two decades on a log axis, far outliers left below the axis and marked per curve; and the picture a tuning env's
``render()`` returns (an episode's rewards per step)."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

#: Colour of the chart's notes: dimgrey, 5.5:1 on white (matplotlib's grey is 3.9:1).
NOTE_COLOUR = "dimgrey"
#: Dash patterns of the baseline lines, in the order of their values (highest first).
_BASELINE_DASHES = ("--", ":", "-.", (0, (5, 2, 1, 2, 1, 2)))


def save_reproducibly(figure: Figure, target: str | Path, image_format: str, dpi: float, **options: Any) -> None:
    """``figure.savefig`` without the date PDF and SVG files carry and with SVG's element ids
    drawn from a fixed salt, so the same figure gives the same bytes (PNG already does)."""
    import matplotlib

    metadata = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}.get(image_format)
    with matplotlib.rc_context({"svg.hashsalt": "placer-gym"}):
        figure.savefig(target, dpi=dpi, format=image_format, metadata=metadata, **options)


def plot_best_so_far(
    curves: Mapping[str, Sequence[float | None]],
    path: str | Path,
    title: str,
    ylabel: str = "best mean score so far",
    baselines: Mapping[str, float] | None = None,
    write_points: bool = False,
) -> Path:
    """Write a PNG with one best-so-far line per label (``None`` = nothing successful yet): the
    mean score of the configuration ranked first so far (see ``learned_systems.ranking``), which
    a re-measurement or a failed trial of it can lower. ``write_points`` puts the picture's points
    as text (:func:`best_so_far_csv` of the same curves and baselines, so the two cannot
    disagree) beside it (the picture's name, ``.csv``), the two written as one set: a kill
    between two writes left a new picture beside the earlier run's points.

    Baselines are grey lines, each of its own dash pattern, named with their value in the
    legend (``default: -1.68``) (labels written beside them sat under the curves, which all start near them); the
    trial axis has whole-number ticks and spans every trial, also when none succeeded, which the
    chart then says. PDF and SVG files carry no date, so the same curves give the same bytes."""
    from netlists.formats.textio import text_writer, write_atomically

    path = Path(path)
    figure = best_so_far_figure(curves, title, ylabel, baselines)
    path.parent.mkdir(parents=True, exist_ok=True)
    image_format = path.suffix[1:].lower() or "png"

    def picture(temporary: Path) -> None:
        save_reproducibly(figure, temporary, image_format, dpi=100)

    # a kill leaves no half picture; a fresh name never meets a file or link of the user's
    points = {path.with_suffix(".csv"): text_writer(best_so_far_csv(curves, baselines))} if write_points else {}
    write_atomically({path: picture, **points})
    return path


def best_so_far_csv(curves: Mapping[str, Sequence[float | None]], baselines: Mapping[str, float | None] | None = None) -> str:
    """The text twin of :func:`plot_best_so_far`'s picture, as CSV (``label,trial,value``): each
    curve's plotted points (a trial with nothing successful yet has none), then each baseline
    drawn, its trial left empty; values in full (a float's ``repr``: a numpy value's read
    ``np.float64(1.5)``), for readers who cannot see the picture and for tools."""
    import csv
    import io

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["label", "trial", "value"])
    for label, curve in curves.items():
        writer.writerows([label, i + 1, repr(float(v))] for i, v in enumerate(curve) if v is not None)
    writer.writerows([label, "", repr(float(v))] for label, v in (baselines or {}).items() if v is not None)
    return text.getvalue()


#: Colours of the curves: Okabe and Ito's colour-blind-safe palette, less its yellow (1.1:1
#: on white, a line hardly seen); matplotlib's default cycle put red beside green and repeated
#: itself after ten curves.
CURVE_COLOURS = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7")
#: Line style of each tuner's curves (by the label's first word: ``random seed 0`` and
#: ``random seed 1`` alike), in order of first appearance.
_TUNER_DASHES = ("-", "--", "-.", ":", (0, (8, 3)), (0, (4, 1, 1, 1, 1, 1)))
#: Markers of a tuner's curves, one per seed (a tuner's next one starts one further on), drawn
#: filled and then hollow: no two curves of a tuner differ in colour alone (colour-blind
#: readers, grey print), up to twice as many seeds as markers.
_SEED_MARKERS = ("o", "s", "^", "D", "h", "X", "P", "*", "<", ">")  # (not "v": a hidden point's mark)
#: The most markers drawn on one curve (a marker at each of 1,000 trials made a thick band).
_MOST_MARKERS = 15
#: Scores all positive and spanning this factor or more (throughput ratios: a failed-looking
#: 0.13 beside 20.3) are drawn on a log axis, as the config-tuning notebook draws them.
LOG_SPAN = 100.0


def _styles(labels: Sequence[str]) -> dict[str, tuple[Any, str, str]]:
    """Each label's (line style, marker, fill style): a line style per tuner (the label's
    first word), a marker per seed within the tuner, filled for a tuner's first
    :data:`_SEED_MARKERS` curves and hollow for the next ones."""
    tuners: dict[str, int] = {}
    seen: dict[str, int] = {}
    styles: dict[str, tuple[Any, str, str]] = {}
    for label in labels:
        tuner = label.split(" ", 1)[0]
        t = tuners.setdefault(tuner, len(tuners))
        j = seen[tuner] = seen.get(tuner, -1) + 1
        marker = _SEED_MARKERS[(t + j) % len(_SEED_MARKERS)]
        fill = "full" if (j // len(_SEED_MARKERS)) % 2 == 0 else "none"
        styles[label] = (_TUNER_DASHES[t % len(_TUNER_DASHES)], marker, fill)
    return styles


def _wants_log_axis(values: Sequence[float]) -> bool:
    """Whether scores ``values`` (curves and baselines) are ratios to draw on a log axis: all
    positive and spanning :data:`LOG_SPAN` or more."""
    return bool(values) and min(values) > 0 and max(values) / min(values) >= LOG_SPAN


def _far_below(values: Sequence[float], floor: float, span: float) -> float | None:
    """The level under which ``values`` lie too far below ``floor`` (the lowest baseline or
    final value) to share the axis with the rest, or None when none do: going down from the
    floor, the first point more than ten times farther below it than the point before it (at
    least ten times ``span``) starts the far ones; a start a few spans below the rest is kept
    on the axis, a first trial at -30,000 beside scores near -2 is not."""
    depths = sorted(floor - v for v in values if v < floor)
    reached = 0.0
    for depth in depths:
        if depth > 10.0 * max(reached, span):
            return floor - depth
        reached = depth
    return None


def _clip_far_outliers(axes: Any, curves: Mapping[str, Sequence[float | None]], baselines: Any,
                       drawn: Mapping[str, Any], earlier: bool) -> str | None:
    """Keep the axis on what matters when some points lie far below the rest (a first trial
    scoring -30,000 beside baselines near -2 flattened every line to the top edge): the points
    :func:`_far_below` finds are left below the axis, which reaches down to every other point
    (one curve's far start hid another curve's moderate one before); each curve marks where its
    hidden points are with triangles on the bottom edge in its colour; returns the note saying
    how many and the lowest (None when none are hidden), which the legend's title carries (on
    the axes it covered data). ``earlier``: the curves are best-so-far ones (a hidden point
    precedes the rest)."""
    values = [v for curve in curves.values() for v in curve if v is not None]
    finals = [next((v for v in reversed(curve) if v is not None), None) for curve in curves.values()]
    anchors = [v for v in [*baselines, *finals] if v is not None]
    if not values or not anchors:
        return None
    top, floor = max([*values, *anchors]), min(anchors)
    span = max(top - floor, 1e-12 * max(abs(top), 1.0))
    cut = _far_below(values, floor, span)
    if cut is None:  # nothing far below: matplotlib's range
        return None
    below = [v for v in values if v <= cut]
    low = min([*(v for v in values if v > cut), floor])
    bottom = low - 0.08 * max(top - low, span)
    axes.set_ylim(bottom, top + 0.15 * span)
    edge = axes.get_xaxis_transform()  # (x in data, y in the axes' height)
    for label, curve in curves.items():
        xs = [i + 1 for i, v in enumerate(curve) if v is not None and v <= cut]
        if xs:
            axes.plot(xs, [0.03] * len(xs), linestyle="", marker="v", markersize=7, clip_on=False,
                      color=drawn[label].get_color(), transform=edge, label="_hidden points")
    return (f"{len(below)} {'earlier ' if earlier else ''}point(s) below the axis, "
            f"marked \N{BLACK DOWN-POINTING TRIANGLE} (lowest {min(below):.4g})")


def best_so_far_figure(
    curves: Mapping[str, Sequence[float | None]],
    title: str,
    ylabel: str = "best mean score so far",
    baselines: Mapping[str, float] | None = None,
    x_label: str = "trials",
    raw: Collection[str] = (),
) -> Figure:
    """The figure :func:`plot_best_so_far` writes: each curve as steps (a best so far holds
    until the trial that beats it), but the curves named in ``raw`` (values as measured, such
    as an episode's rewards: plain lines); the x axis counts ``x_label`` (an env's episode
    counts steps, a tuning run trials). Scores all positive and spanning two decades or more
    get a log axis (:data:`LOG_SPAN`)."""
    figure = Figure(figsize=(6, 4))
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    longest = max((len(curve) for curve in curves.values()), default=0)
    styles = _styles(list(curves))
    drawn: dict[str, Any] = {}
    for k, (label, curve) in enumerate(curves.items()):
        xs = [i + 1 for i, v in enumerate(curve) if v is not None]
        ys = [v for v in curve if v is not None]
        linestyle, marker, fill = styles[label]
        # (markers offset per curve, so that two curves' marks do not sit on each other)
        every = max(1, -(-len(xs) // _MOST_MARKERS))
        (drawn[label],) = axes.plot(xs, ys, linestyle=linestyle, marker=marker, markersize=4, label=label,
                                    drawstyle="default" if label in raw else "steps-post",
                                    markevery=(k % every, every), color=CURVE_COLOURS[k % len(CURVE_COLOURS)],
                                    fillstyle=fill)
    shown = {label: value for label, value in (baselines or {}).items() if value is not None}
    # highest first, as the lines lie; two close lines stay apart by their dashes
    for (label, value), dashes in zip(sorted(shown.items(), key=lambda item: -item[1]),
                                      itertools.cycle(_BASELINE_DASHES), strict=False):
        axes.axhline(value, linestyle=dashes, linewidth=1.2, color="dimgrey", label=f"{label}: {value:.3g}")
    values = [v for curve in curves.values() for v in curve if v is not None]
    scores = [*values, *shown.values()]
    note = None
    if _wants_log_axis(scores):  # (one far outlier flattened a linear axis)
        axes.set_yscale("log")
        decades = np.log10(max(scores) / min(scores))
        axes.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if decades < 3.5 else (1.0,)))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))  # (not 10^0)
        axes.yaxis.set_minor_formatter(NullFormatter())
        ylabel += " (log axis)"
    else:
        note = _clip_far_outliers(axes, curves, shown.values(), drawn, earlier=not raw)
    axes.set_xlim(0.5, max(longest, 1) + 0.5)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    if not values:
        axes.text(0.5, 0.75, f"no successful {x_label.rstrip('s')}", transform=axes.transAxes, ha="center",  # (off the baselines, drawn mid-axis)
                  va="center", color=NOTE_COLOUR)
    axes.set_xlabel(x_label)
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10)  # (a second line saying what a score is fits the width)
    named = [
        line for line in axes.get_lines()
        if isinstance(text := line.get_label(), str) and text and not text.startswith("_")
    ]  # (matplotlib types a label as any object; set_label stores a str or None)
    if named or note:  # below the axes: inside, it covered some curve wherever it went
        legend = axes.legend(handles=named, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2, fontsize=8,
                             frameon=False, title=note, title_fontsize=8)
        legend.get_title().set_color(NOTE_COLOUR)
        rows = (len(named) + 1) // 2 + (note is not None)
        figure.set_figheight(4 + 0.17 * rows + 0.17 * title.count("\n"))
    figure.tight_layout()
    return figure


def episode_rewards_figure(rewards: Sequence[float], title: str) -> Figure:
    """An episode's rewards per step (as measured: a plain line) and their best so far (steps),
    the x axis counting the episode's steps (it said "trials")."""
    best = list(np.maximum.accumulate(rewards)) if len(rewards) else []
    return best_so_far_figure({"reward": list(rewards), "best so far": best}, title, ylabel="reward",
                              x_label="steps", raw=("reward",))


def episode_rewards_image(rewards: Sequence[float], title: str) -> np.ndarray:
    """An RGB picture (height x width x 3, uint8) of :func:`episode_rewards_figure`: what a
    tuning env's ``render()`` returns in ``rgb_array`` mode (a video recorder's frame; SB3's
    ``make_vec_env`` asks every env for that mode). Its height and width are even: the figure
    is 4 + 0.17 inches a legend row high (417 pixels at 100 dpi), and an odd side made H.264
    videos yuv444p, which browsers cannot play; an odd side gets one more row or column of the
    figure's edge pixels (its background) at the bottom or right."""
    figure = episode_rewards_figure(rewards, title)
    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)  # (best_so_far_figure attaches one)
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3]
    height, width, _ = image.shape
    return np.pad(image, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")

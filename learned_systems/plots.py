"""Best-so-far curves of tuning runs, one line per tuner (matplotlib, headless: the figure is
built on the Agg canvas without pyplot)."""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

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
) -> Path:
    """Write a PNG with one best-so-far line per label (``None`` = nothing successful yet): the
    mean score of the configuration ranked first so far (see ``learned_systems.ranking``), which
    a re-measurement or a failed trial of it can lower.

    Baselines are grey lines, each of its own dash pattern, named with their value in the
    legend (labels written beside them sat under the curves, which all start near them); the
    trial axis has whole-number ticks and spans every trial, also when none succeeded, which the
    chart then says. PDF and SVG files carry no date, so the same curves give the same bytes."""
    path = Path(path)
    figure = best_so_far_figure(curves, title, ylabel, baselines)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a kill leaves no half picture; a fresh name never meets a file or link of the user's
    partial = path.with_name(f".{os.fsdecode(os.fsencode(path.name)[:100])}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        save_reproducibly(figure, partial, path.suffix[1:].lower() or "png", dpi=100)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)  # (a failed write's remains)
    return path


def _clip_early_outliers(axes: Any, curves: Mapping[str, Sequence[float | None]], baselines: Any) -> None:
    """Keep the axis on what matters when a curve starts far below the rest (a first trial
    scoring -30,000 beside baselines near -2 flattened every line to the top edge): the range
    then spans the baselines and each curve's final value with a margin, and the chart says how
    many earlier points lie below it and the lowest of them."""
    values = [v for curve in curves.values() for v in curve if v is not None]
    finals = [next((v for v in reversed(curve) if v is not None), None) for curve in curves.values()]
    anchors = [v for v in [*baselines, *finals] if v is not None]
    if not values or not anchors:
        return
    top, floor = max([*values, *anchors]), min(anchors)
    span = max(top - floor, 1e-12 * max(abs(top), 1.0))
    bottom = floor - 0.5 * span
    below = [v for v in values if v < bottom]
    if not below or min(values) > floor - 3.0 * span:  # nothing far below: matplotlib's range
        return
    axes.set_ylim(bottom, top + 0.15 * span)
    axes.text(0.99, 0.02, f"{len(below)} earlier point(s) below the axis (lowest {min(below):.4g})",
              transform=axes.transAxes, ha="right", va="bottom", fontsize=8, color="grey")


def best_so_far_figure(
    curves: Mapping[str, Sequence[float | None]],
    title: str,
    ylabel: str = "best mean score so far",
    baselines: Mapping[str, float] | None = None,
) -> Figure:
    """The figure :func:`plot_best_so_far` writes."""
    figure = Figure(figsize=(6, 4))
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    longest = max((len(curve) for curve in curves.values()), default=0)
    for label, curve in curves.items():
        xs = [i + 1 for i, v in enumerate(curve) if v is not None]
        ys = [v for v in curve if v is not None]
        axes.plot(xs, ys, marker=".", label=label)
    shown = {label: value for label, value in (baselines or {}).items() if value is not None}
    # highest first, as the lines lie; two close lines stay apart by their dashes
    for (label, value), dashes in zip(sorted(shown.items(), key=lambda item: -item[1]),
                                      itertools.cycle(_BASELINE_DASHES), strict=False):
        axes.axhline(value, linestyle=dashes, linewidth=1.2, color="dimgrey", label=f"{label} ({value:.3g})")
    _clip_early_outliers(axes, curves, shown.values())
    axes.set_xlim(0.5, max(longest, 1) + 0.5)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    if not any(v is not None for curve in curves.values() for v in curve):
        axes.text(0.5, 0.75, "no successful trial", transform=axes.transAxes, ha="center",  # (off the baselines, drawn mid-axis)
                  va="center", color="grey")
    axes.set_xlabel("trials")
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10)  # (a second line saying what a score is fits the width)
    named = [
        line for line in axes.get_lines()
        if isinstance(text := line.get_label(), str) and text and not text.startswith("_")
    ]  # (matplotlib types a label as any object; set_label stores a str or None)
    if named:  # below the axes: inside, it covered some curve wherever it went
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2, fontsize=8, frameon=False)
        figure.set_figheight(4 + 0.17 * ((len(named) + 1) // 2))
    figure.tight_layout()
    return figure


def episode_rewards_image(rewards: Sequence[float], title: str) -> np.ndarray:
    """An RGB picture (height x width x 3, uint8) of an episode's rewards per step and their
    best so far: what a tuning env's ``render()`` returns in ``rgb_array`` mode (a video
    recorder's frame; SB3's ``make_vec_env`` asks every env for that mode)."""
    best = list(np.maximum.accumulate(rewards)) if len(rewards) else []
    figure = best_so_far_figure({"reward": list(rewards), "best so far": best}, title, ylabel="reward")
    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)  # (best_so_far_figure attaches one)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()

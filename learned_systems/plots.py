"""Best-so-far curves of tuning runs, one line per tuner (matplotlib, headless)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_best_so_far(
    curves: Mapping[str, Sequence[float | None]],
    path: str | Path,
    title: str,
    ylabel: str = "best mean score so far",
    baselines: Mapping[str, float] | None = None,
) -> Path:
    """Write a PNG with one best-so-far line per label (``None`` = nothing successful yet).

    Baselines are dashed lines labelled at the left edge (labels of equal values stacked, not
    drawn over each other); the trial axis has whole-number ticks and spans every trial, also
    when none succeeded."""
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(figsize=(6, 4))
    longest = max((len(curve) for curve in curves.values()), default=0)
    for label, curve in curves.items():
        xs = [i + 1 for i, v in enumerate(curve) if v is not None]
        ys = [v for v in curve if v is not None]
        axes.plot(xs, ys, marker=".", label=label)
    shown = {label: value for label, value in (baselines or {}).items() if value is not None}
    for value in shown.values():
        axes.axhline(value, linestyle="--", linewidth=1, color="grey")
    low, high = axes.get_ylim()  # the final range: labels closer than 4 % of it are stacked
    drawn: list[float] = []
    for label, value in shown.items():
        stacked = sum(1 for other in drawn if abs(other - value) <= 0.04 * (high - low))
        axes.annotate(label, (0.01, value), xycoords=("axes fraction", "data"), fontsize=8, color="grey",
                      xytext=(0, 2 + 9 * stacked), textcoords="offset points")
        drawn.append(value)
    axes.set_xlim(0.5, max(longest, 1) + 0.5)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("trials")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    if any(line.get_label() and not line.get_label().startswith("_") for line in axes.get_lines()):
        axes.legend()
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp")  # a kill leaves no half picture
    try:
        figure.savefig(partial, dpi=100, format=path.suffix[1:].lower() or "png")
    finally:
        plt.close(figure)
    partial.replace(path)
    return path

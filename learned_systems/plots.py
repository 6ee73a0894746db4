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
    """Write a PNG with one best-so-far line per label (``None`` = nothing successful yet)."""
    figure, axes = plt.subplots(figsize=(6, 4))
    for label, curve in curves.items():
        xs = [i + 1 for i, v in enumerate(curve) if v is not None]
        ys = [v for v in curve if v is not None]
        axes.plot(xs, ys, marker=".", label=label)
    for label, value in (baselines or {}).items():
        if value is not None:
            axes.axhline(value, linestyle="--", linewidth=1, color="grey")
            axes.annotate(label, (1, value), fontsize=8, color="grey")
    axes.set_xlabel("trials")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path

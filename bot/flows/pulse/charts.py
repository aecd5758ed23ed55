"""The pulse's trend chart as PNG bytes (matplotlib, Agg backend): several named series across labelled points in
time. Knows nothing about surveys, wording or chat platforms. Same input, same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

# A colour-blind-safe palette (Okabe-Ito), in a fixed order so a series keeps its colour from chart to chart.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#999999")


def trend_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    y_range: tuple[float, float],
    y_label: str = "",
    width: float = 7.0,
    height: float = 3.6,
) -> bytes:
    """A line per series over `labels` (one value per label; None leaves a gap). Returns PNG bytes."""
    # Imported on first use: matplotlib takes longer to import than most commands take to run (`simulate`, `validate`).
    import matplotlib

    matplotlib.use("Agg")  # no display, no GUI toolkit: charts are rendered to bytes only
    from matplotlib.figure import Figure  # a bare Figure: no pyplot state shared between threads

    figure = Figure(figsize=(width, height), dpi=100)
    axes = figure.subplots()
    positions = list(range(len(labels)))
    for index, (name, values) in enumerate(series.items()):
        points = [(x, v) for x, v in zip(positions, values, strict=False) if v is not None]
        colour = PALETTE[index % len(PALETTE)]
        # Gaps stay gaps: a line joins only neighbouring points that both exist.
        ys = [v if v is not None else float("nan") for v in values]
        axes.plot(positions[: len(ys)], ys, color=colour, linewidth=2, label=name)
        if points:
            axes.scatter([x for x, _ in points], [v for _, v in points], color=colour, s=18, zorder=3)
    axes.set_xticks(positions)
    axes.set_xticklabels(labels, rotation=30 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center")
    low, high = y_range
    axes.set_ylim(low - 0.2, high + 0.2)
    axes.set_yticks([v for v in range(int(low), int(high) + 1)])
    axes.set_xlim(-0.5, max(len(labels) - 0.5, 0.5))
    axes.grid(axis="y", color="#dddddd", linewidth=0.8)
    axes.set_title(title, fontsize=11)
    if y_label:
        axes.set_ylabel(y_label)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if series:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    # No "Software" stamp (it names the matplotlib version), so the bytes depend only on the input.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()

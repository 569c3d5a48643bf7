"""Charts as PNG files (matplotlib, drawn off-screen): adapters send them as photos."""
from __future__ import annotations

import io
from collections.abc import Sequence


def bar_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float]], unit_label: str) -> bytes:
    """Grouped bars, one group per label and one bar per series (a currency, say)."""
    from matplotlib.figure import Figure  # a heavy import, paid only by those who ask for a chart

    figure = Figure(figsize=(7, 3.6), dpi=110, layout="constrained")
    axes = figure.add_subplot()
    width = 0.8 / max(len(series), 1)
    for index, (name, values) in enumerate(series.items()):
        positions = [x + index * width for x in range(len(labels))]
        bars = axes.bar(positions, values, width=width, label=name)
        axes.bar_label(bars, labels=[f"{v:,.0f}" if v else "" for v in values], fontsize=8)
    axes.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(labels))], list(labels))
    axes.set_ylabel(unit_label)
    axes.set_title(title)
    if len(series) > 1:
        axes.legend()
    axes.spines[["top", "right"]].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()

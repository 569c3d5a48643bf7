"""Charts as PNG files (matplotlib, drawn off-screen): adapters send them as photos."""
from __future__ import annotations

import io
import math
from collections.abc import Sequence

COLUMNS = 3


def short_number(value: float) -> str:
    """1,234,567 as 1.2M; 12,345 as 12.3k: bar labels that fit above narrow bars."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:,.0f}"


def bar_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float]], unit_label: str) -> bytes:
    """One small bar chart per series (a currency, say), side by side, each on its own scale:
    amounts in different currencies never share an axis."""
    from matplotlib.figure import Figure  # a heavy import, paid only by those who ask for a chart
    from matplotlib.ticker import FuncFormatter

    count = max(len(series), 1)
    columns = min(count, COLUMNS)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(3.2 * columns + 0.4, 2.6 * rows + 0.5), dpi=100)
    # fixed margins: a layout engine costs more than the drawing
    figure.subplots_adjust(left=0.1 / columns + 0.05, right=0.98, top=1 - 0.8 / (2.6 * rows + 0.5), bottom=0.12 / rows,
                           wspace=0.35, hspace=0.55)
    figure.suptitle(title, fontsize=12)
    for index, (name, values) in enumerate(series.items()):
        axes = figure.add_subplot(rows, columns, index + 1)
        bars = axes.bar(range(len(labels)), values, color=f"C{index}")
        axes.bar_label(bars, labels=[short_number(v) if v else "" for v in values], fontsize=8)
        axes.set_xticks(range(len(labels)), [label.replace(" days", "") for label in labels], fontsize=8)
        axes.set_title(f"{unit_label} in {name}", fontsize=10)
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: short_number(value)))
        axes.tick_params(axis="y", labelsize=8)
        axes.margins(y=0.18)
        axes.spines[["top", "right"]].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()

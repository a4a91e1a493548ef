"""The benchmark's figures as charts (PNG): the thumbnail against its floor and a naive resize,
and the latency budget as stacked bars. matplotlib is the bench's own dependency (make venv
installs it); without it the benchmark prints its figures and says it drew nothing."""

from __future__ import annotations

from pathlib import Path

# The budget's lines, in the order an upload meets them, grouped for a legend one can read.
BUDGET_GROUPS = {
    "S3 PUT: request -> object stored, event made": "upload (S3 PUT)",
    "event -> invocation handed to the runtime": "event -> function",
    "runtime -> handler starts (Runtime API, awslambdaric)": "event -> function",
    "  idempotency record (DynamoDB PutItem)": "idempotency record",
    "  read the upload (S3 GetObject + body)": "read the upload",
    "  image work: decode once, every rendition": "image work",
    "  store the renditions (S3 PutObject each, at once)": "store renditions",
    "  row write (DynamoDB UpdateItem, conditional)": "row write",
    "  notification (SNS Publish)": "SNS Publish",
    "  function code between the calls": "function code",
    "SNS -> notification on the queue": "delivery to the consumer",
    "queue -> received here (SQS ReceiveMessage)": "delivery to the consumer",
}
COLOURS = {
    "upload (S3 PUT)": "#8da0cb",
    "event -> function": "#e78ac3",
    "idempotency record": "#a6d854",
    "read the upload": "#66c2a5",
    "image work": "#fc8d62",
    "store renditions": "#ffd92f",
    "row write": "#e5c494",
    "SNS Publish": "#b3b3b3",
    "function code": "#1b9e77",
    "delivery to the consumer": "#7570b3",
}


def pyplot():
    """matplotlib's pyplot without a display, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def thumbnail_chart(path: Path, figures: dict[str, tuple[float, float, float]], machine: str) -> None:
    """Grouped bars per size: floor (draft decode), the pipeline's thumbnail, a naive resize."""
    plt = pyplot()
    sizes = list(figures)
    series = (
        ("floor (draft decode)", 0, "#66c2a5"),
        ("pipeline", 1, "#fc8d62"),
        ("naive resize", 2, "#8da0cb"),
    )
    figure, axes = plt.subplots(figsize=(8, 4.2), dpi=110)
    width = 0.26
    for number, (label, index, colour) in enumerate(series):
        positions = [size + (number - 1) * width for size in range(len(sizes))]
        values = [figures[size][index] for size in sizes]
        bars = axes.bar(positions, values, width, label=label, color=colour)
        axes.bar_label(bars, fmt="%.0f", fontsize=8, padding=2)
    axes.set_xticks(range(len(sizes)), [f"{size} JPEG" for size in sizes])
    axes.set_ylabel("ms per image, one core (median)")
    axes.set_title("Thumbnail time against its floor and a naive resize", fontsize=11)
    axes.legend(frameon=False, fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    figure.text(0.01, 0.01, machine, fontsize=7, color="#555555")
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    figure.savefig(path)
    plt.close(figure)


def budget_chart(path: Path, budgets: dict[str, dict[str, float]], machine: str) -> None:
    """One horizontal stacked bar per configuration: the median of each budget line, grouped."""
    plt = pyplot()
    grouped: dict[str, dict[str, float]] = {}
    for configuration, lines in budgets.items():
        groups: dict[str, float] = {}
        for line, value in lines.items():
            group = BUDGET_GROUPS.get(line, "function code")
            groups[group] = groups.get(group, 0.0) + value
        grouped[configuration] = {group: max(0.0, value) for group, value in groups.items()}
    order = list(dict.fromkeys(BUDGET_GROUPS.values()))
    configurations = list(grouped)
    figure, axes = plt.subplots(figsize=(9, 1.4 + 0.9 * len(configurations)), dpi=110)
    for row, configuration in enumerate(configurations):
        left = 0.0
        for group in order:
            value = grouped[configuration].get(group, 0.0)
            label = group if row == 0 else None
            axes.barh(row, value, left=left, color=COLOURS[group], label=label, height=0.6)
            if value >= 9:
                axes.text(left + value / 2, row, f"{value:.0f}", ha="center", va="center", fontsize=8)
            left += value
        axes.text(left + 2, row, f"{left:.0f} ms", va="center", fontsize=9)
    axes.set_yticks(range(len(configurations)), configurations)
    axes.invert_yaxis()
    axes.set_xlabel(
        "ms from the S3 PUT to the SNS notification received: each line's median, added (2 MP JPEG, warm)"
    )
    axes.set_title("Where an upload's time goes (host mode)", fontsize=11)
    axes.legend(ncol=5, fontsize=7.5, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.32))
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_xlim(0, max(sum(values.values()) for values in grouped.values()) * 1.1)
    figure.text(0.01, 0.01, machine, fontsize=7, color="#555555")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    figure.savefig(path)
    plt.close(figure)

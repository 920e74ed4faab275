"""Plot images per second against batch size, per detector and dataset, from a benchmark table.

    python scripts/plot_benchmarks.py docs/benchmarks.md docs/benchmarks.png
"""

import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

Row = Dict[str, str]


def read_table(markdown: Path) -> List[Row]:
    """The rows of the first markdown table in ``markdown``, as dicts by column name."""
    lines = [line for line in markdown.read_text().splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")))) for line in lines[2:]]


def plot(rows: List[Row], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted({row["dataset"] for row in rows})
    detectors = sorted({row["detector"] for row in rows if row["package"] == "this package"})
    fig, axes = plt.subplots(1, len(datasets), figsize=(6 * len(datasets), 4.5), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        ours: Dict[str, List[Tuple[int, float]]] = defaultdict(list)
        upstream: Dict[str, float] = {}
        for row in rows:
            if row["dataset"] != dataset:
                continue
            if row["package"] == "this package":
                ours[row["detector"]].append((int(row["batch size"]), float(row["img/s"])))
            else:
                upstream[row["detector"]] = float(row["img/s"])
        for k, detector in enumerate(detectors):
            points = sorted(ours.get(detector, []))
            if not points:
                continue
            color = f"C{k}"
            ax.plot([b for b, _ in points], [v for _, v in points], "o-", color=color, label=detector)
            base = upstream.get(detector.split(":")[0])
            if base is not None and ":" not in detector:
                ax.axhline(base, color=color, linestyle="--", linewidth=1,
                           label=f"{detector}, deepface 0.0.103")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size")
        ax.set_ylabel("images per second")
        ax.set_title(dataset)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(target, dpi=110)


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/benchmarks.md")
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else source.with_suffix(".png")
    plot(read_table(source), target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()

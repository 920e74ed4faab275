"""Plot requests per second and p99 latency against concurrent clients, per server, from
the first table of the serving benchmark (``docs/benchmarks-serving.md``).

    python scripts/plot_serving.py docs/benchmarks-serving.md docs/benchmarks-serving.png
"""

import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

Row = Dict[str, str]


def first_table(markdown: Path) -> List[Row]:
    """The rows of the first markdown table in ``markdown``, as dicts by column name."""
    table: List[str] = []
    for line in markdown.read_text().splitlines():
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    return [dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")))) for line in table[2:]]


def plot(rows: List[Row], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: Dict[str, List[Tuple[int, float, float]]] = defaultdict(list)
    for row in rows:
        series[row["server"]].append((int(row["clients"]), float(row["req/s"]), float(row["p99 ms"]) / 1000))
    fig, (rate, tail) = plt.subplots(1, 2, figsize=(12, 4.5))
    for server, points in series.items():
        points.sort()
        clients = [p[0] for p in points]
        rate.plot(clients, [p[1] for p in points], marker="o", label=server)
        tail.plot(clients, [p[2] for p in points], marker="o", label=server)
    for ax, label in ((rate, "requests per second"), (tail, "p99 latency (s)")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    rate.legend(fontsize=8)
    fig.suptitle("one-image /represent, Facenet + mtcnn, 2 shared CPU cores")
    fig.tight_layout()
    fig.savefig(target, dpi=90)


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    plot(first_table(source), target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()

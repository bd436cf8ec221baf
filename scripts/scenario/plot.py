"""plot.py OUT — PNG plots of a scenario run from OUT/peer-N.csv, OUT/events.jsonl and
OUT/summary.json: accuracy and loss vs time with the events marked, staleness vs time, and the
final consensus distance. Run by report.render_plots under a python that has matplotlib.
"""
import csv
import json
import sys
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def series(rows, key):
    points = [(number(r["t"]), number(r[key])) for r in rows]
    points = [(t, v) for t, v in points if t is not None and v is not None]
    return [t for t, _ in points], [v for _, v in points]


def main(out):
    out = Path(out)
    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    peers = sorted(out.glob("peer-*.csv"), key=lambda p: int(p.stem.split("-")[1]))
    rows = {p.stem: list(csv.DictReader(open(p))) for p in peers}
    events_file = out / "events.jsonl"
    events = [json.loads(line) for line in open(events_file)] if events_file.exists() else []
    summary = json.loads((out / "summary.json").read_text())

    def mark(ax):
        for e in events:
            ax.axvline(e["t"], color="grey", linestyle=":", linewidth=0.8)
            ax.annotate(f"{e['action']} {e.get('targets', '')}", (e["t"], 1),
                        xycoords=("data", "axes fraction"), rotation=90, fontsize=6, va="top",
                        color="grey")

    for key, name in (("test_accuracy", "accuracy"), ("train_loss", "loss"),
                      ("staleness_mean", "staleness")):
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for peer, data in rows.items():
            ax.plot(*series(data, key), label=peer, linewidth=1)
        mark(ax)
        ax.set_xlabel("seconds since training started")
        ax.set_ylabel(key.replace("_", " "))
        ax.set_title(f"{summary['name']}: {key.replace('_', ' ')}")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(plots / f"{name}.png", dpi=110)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.5))
    d = summary.get("consensus_distance")
    ax.bar(["max", "mean"], [d or 0, summary.get("consensus_distance_mean") or 0])
    ax.set_ylabel("relative L2 distance to the average")
    ax.set_title(f"{summary['name']}: final consensus distance")
    fig.tight_layout()
    fig.savefig(plots / "consensus_distance.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main(sys.argv[1])

"""report.py — what a scenario run leaves behind: the summary table, the expectation table,
per-peer CSV and JSONL samples, the events, and PNG plots when matplotlib is available.
"""
from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

from .expectations import Check, Outcome

CSV_FIELDS = ["t", "rank", "state", "step", "epoch", "train_loss", "test_loss", "test_accuracy",
              "samples_per_second", "slowdown", "staleness_mean", "staleness_max",
              "neighbours_alive", "applied", "received", "dropped", "rejected"]


def sample_row(t: float, rank: int, state: str, status: dict) -> dict:
    """One CSV row from a /status answer."""
    neighbours = [n for n in status.get("neighbours", []) if n.get("step", -1) >= 0]
    stale = [n.get("staleness", 0) for n in neighbours]
    gossip = status.get("gossip", {})
    return {"t": round(t, 3), "rank": rank, "state": state, "step": status.get("step"),
            "epoch": status.get("epoch"), "train_loss": status.get("train_loss"),
            "test_loss": status.get("test_loss"), "test_accuracy": status.get("test_accuracy"),
            "samples_per_second": status.get("samples_per_second"),
            "slowdown": status.get("slowdown"),
            "staleness_mean": round(sum(stale) / len(stale), 3) if stale else None,
            "staleness_max": max(stale) if stale else None,
            "neighbours_alive": sum(1 for n in status.get("neighbours", []) if n.get("alive")),
            "applied": gossip.get("applied"), "received": gossip.get("received"),
            "dropped": sum(n.get("dropped", 0) for n in status.get("neighbours", [])),
            "rejected": sum(n.get("rejected", 0) for n in status.get("neighbours", []))}


def write_samples(out: Path, rows: list[dict], world: int) -> None:
    for rank in range(world):
        with open(out / f"peer-{rank}.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
            writer.writeheader()
            writer.writerows(r for r in rows if r["rank"] == rank)


def _fmt(value, spec: str = ".4f") -> str:
    return "-" if value is None else format(value, spec)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def summary(name: str, outcome: Outcome, peers, checks: list[Check]) -> str:
    rows = []
    for p, o in zip(peers, outcome.peers):
        rows.append([str(p.rank), p.state, str(p.starts),
                     f"{o.final_step}/{o.total_steps}" if o.final_step is not None else
                     f"{p.step}/-", _fmt(o.final_accuracy), f"{o.max_stall:.1f}",
                     str(p.total("rejected")), ",".join(map(str, o.unexpected_exits)) or "-"])
    text = [f"scenario {name}: peers",
            table(["rank", "state", "starts", "step", "final acc", "max stall s", "rejected",
                   "crashes"], rows),
            f"consensus model accuracy {_fmt(outcome.consensus_accuracy)}, consensus distance "
            f"(max relative L2 to the average) {_fmt(outcome.consensus_distance, '.4g')}",
            "",
            f"scenario {name}: expectations",
            table(["", "expectation", "expected", "seen"],
                  [["ok" if c.ok else "FAIL", c.name, c.expected, c.seen] for c in checks])]
    failures = [c for c in checks if not c.ok]
    for c in failures:
        text.append(f"FAILED: {c.name}: expected {c.expected}, saw {c.seen}"
                    + (f": {c.why}" if c.why else ""))
    text.append(f"scenario {name}: " + ("PASSED" if not failures else
                                        f"FAILED ({len(failures)} of {len(checks)} expectations)"))
    return "\n".join(text)


def render_plots(out: Path, say=print) -> None:
    """PNG plots under out/plots via /usr/bin/python3 when it has matplotlib; else a message."""
    python = "/usr/bin/python3"
    try:
        probe = subprocess.run([python, "-c", "import matplotlib"], capture_output=True,
                               timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        probe = None
    if probe is None or probe.returncode != 0:
        say(f"plots skipped: {python} cannot import matplotlib (the CSV files are in {out})")
        return
    script = Path(__file__).with_name("plot.py")
    result = subprocess.run([python, str(script), str(out)], capture_output=True, text=True,
                            timeout=300)
    if result.returncode != 0:
        say(f"plots failed: {result.stderr.strip()[-500:]}")
    else:
        say(f"plots: {out}/plots/")


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=2, default=str) + "\n")

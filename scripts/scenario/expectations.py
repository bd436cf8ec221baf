"""expectations.py — a finished run's outcome checked against a scenario's [expect] table.

Pure: `check(expect, outcome)` returns one Check per expectation, each saying what was
expected, what was seen and, when it failed, why in words a reader can act on.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .spec import Expect


@dataclass
class PeerOutcome:
    rank: int
    survivor: bool = True            # running at the end (not killed for good)
    finished: bool = False           # exited 0 with a final summary
    final_accuracy: float | None = None
    final_step: int | None = None
    total_steps: int | None = None
    max_stall: float = 0.0           # longest time running and unpaused without a new step (s)
    unexpected_exits: list = field(default_factory=list)  # exit codes the runner did not cause


@dataclass
class Outcome:
    peers: list[PeerOutcome]
    consensus_accuracy: float | None = None
    consensus_distance: float | None = None
    timed_out: bool = False
    unfired: list = field(default_factory=list)   # descriptions of events that never fired
    skipped: list = field(default_factory=list)   # events that fired on nobody, with the reason
    rejected: int = 0                # bad messages the receivers rejected (validation), summed
    corrupted: int = 0               # messages the senders' fault injection corrupted, summed
    lies: int = 0                    # parameter messages sent by Byzantine peers, summed
    outliers: int = 0                # implausible parameters the receivers rejected, summed
    rejected_reasons: list = field(default_factory=list)  # reasons the peers logged
    error: str | None = None         # the run could not be completed (start-up failed, ...)


@dataclass
class Check:
    name: str
    ok: bool
    expected: str
    seen: str
    why: str = ""


def check(expect: Expect, outcome: Outcome) -> list[Check]:
    checks: list[Check] = []
    survivors = [p for p in outcome.peers if p.survivor]
    if outcome.error:
        checks.append(Check("run completed", False, "the run to complete", "it did not",
                            outcome.error))
    checks.append(Check("no timeout", not outcome.timed_out, "all peers done in time",
                        "timed out" if outcome.timed_out else "done",
                        "cluster.timeout passed before every peer finished"
                        if outcome.timed_out else ""))
    crashes = [(p.rank, code) for p in outcome.peers for code in p.unexpected_exits]
    checks.append(Check("unexpected crashes", len(crashes) <= expect.max_crashes,
                        f"<= {expect.max_crashes}", str(len(crashes)),
                        "; ".join(f"peer {r} exited with {c}" for r, c in crashes)))
    if expect.min_survivors is not None:
        checks.append(Check("survivors", len(survivors) >= expect.min_survivors,
                            f">= {expect.min_survivors}", str(len(survivors))))
    if expect.all_progressed:
        unfinished = [p.rank for p in survivors if not p.finished]
        checks.append(Check("every survivor finished", not unfinished, "all",
                            f"{len(survivors) - len(unfinished)}/{len(survivors)}",
                            f"peer(s) {unfinished} did not finish their run" if unfinished else ""))
        stalled = [(p.rank, p.max_stall) for p in outcome.peers if p.max_stall > expect.max_stall]
        worst = max((p.max_stall for p in outcome.peers), default=0.0)
        checks.append(Check("no stalled peer", not stalled, f"stall <= {expect.max_stall:g} s",
                            f"worst {worst:.1f} s",
                            "; ".join(f"peer {r} made no step for {s:.1f} s while running"
                                      for r, s in stalled)))
    if expect.all_events_fired:
        checks.append(Check("every event fired", not outcome.unfired and not outcome.skipped,
                            "all", "all" if not (outcome.unfired or outcome.skipped) else
                            f"{len(outcome.unfired)} unfired, {len(outcome.skipped)} skipped",
                            "; ".join([f"never fired: {u}" for u in outcome.unfired] +
                                      [f"acted on nobody: {s}" for s in outcome.skipped])))
    if expect.min_accuracy is not None:
        accs = [(p.rank, p.final_accuracy) for p in survivors]
        low = [(r, a) for r, a in accs if a is None or a < expect.min_accuracy]
        seen = min((a for _, a in accs if a is not None), default=None)
        checks.append(Check("final accuracy of each survivor", not low and bool(accs),
                            f">= {expect.min_accuracy:.4f}",
                            f"min {seen:.4f}" if seen is not None else "none",
                            "; ".join(f"peer {r}: " + ("no final accuracy" if a is None else
                                                       f"{a:.4f} < {expect.min_accuracy:.4f}")
                                      for r, a in low) or ("no survivor" if not accs else "")))
    if expect.min_consensus_accuracy is not None:
        a = outcome.consensus_accuracy
        ok = a is not None and a >= expect.min_consensus_accuracy
        checks.append(Check("consensus model accuracy", ok,
                            f">= {expect.min_consensus_accuracy:.4f}",
                            "none" if a is None else f"{a:.4f}",
                            "" if ok else ("the average of the replicas could not be evaluated"
                                           if a is None else
                                           f"the average of the replicas scored {a:.4f}, below "
                                           f"{expect.min_consensus_accuracy:.4f}")))
    if expect.max_consensus_distance is not None:
        d = outcome.consensus_distance
        ok = d is not None and d <= expect.max_consensus_distance
        checks.append(Check("consensus distance", ok, f"<= {expect.max_consensus_distance:g}",
                            "none" if d is None else f"{d:.4g}",
                            "" if ok else ("no parameters to compare" if d is None else
                                           f"a replica is {d:.4g} (relative L2) from the average,"
                                           f" above {expect.max_consensus_distance:g}")))
    if expect.bad_messages_rejected:
        # Corrupted messages reached receivers, which rejected them as bad (the per-neighbour
        # `rejected` counter: validation failures only, not flow-control drops) and logged why.
        # Not every corrupted message reaches a receiver (the sender's queue may drop it, a drop
        # fault may lose it) and a duplicated one is rejected twice, so the counts differ.
        why = []
        if outcome.corrupted == 0:
            why.append("no message was corrupted (add a corrupt event)")
        elif outcome.rejected == 0:
            why.append(f"{outcome.corrupted} messages were corrupted and no receiver rejected one")
        if "bad_checksum" not in outcome.rejected_reasons:
            why.append("no peer logged a message dropped for bad_checksum")
        checks.append(Check("bad messages rejected", not why,
                            "corrupted > 0, rejected > 0, logged",
                            f"corrupted {outcome.corrupted}, rejected {outcome.rejected}",
                            "; ".join(why)))
    if expect.lies_rejected:
        why = []
        if outcome.lies == 0:
            why.append("no peer lied (add a byzantine event)")
        if outcome.outliers == 0:
            why.append("no peer rejected implausible parameters")
        checks.append(Check("lies rejected", not why, "lies > 0, rejected > 0",
                            f"lies {outcome.lies}, rejected {outcome.outliers}",
                            "; ".join(why)))
    return checks


def passed(checks: list[Check]) -> bool:
    return all(c.ok for c in checks)

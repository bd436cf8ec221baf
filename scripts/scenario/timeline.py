"""timeline.py — when each scenario event fires, and on which peers.

Pure logic, no processes and no clock of its own: the runner asks `due(now, steps)` with the
seconds since training started and the step of each running peer, and gets the events
to apply now, their targets resolved. Events fire in file order: each waits for the one
before it and for its own trigger (`at` seconds, `step`, or `after` seconds after the previous
one fired). `churn` adds background kill/restart events that fire on time alone.
Random choices come from one seeded generator, so a scenario replays the same way.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from .spec import Event


@dataclass
class PeerView:
    """What the timeline needs to know about the cluster to pick targets."""
    running: set = field(default_factory=set)  # started, not killed, not paused, not exited
    paused: set = field(default_factory=set)
    killed: set = field(default_factory=set)   # killed and not restarted


@dataclass
class Firing:
    """An event applied now: the event, its resolved target ranks and a note when skipped."""
    event: Event
    time: float
    targets: list
    skipped: str | None = None   # why nothing was done (no eligible peer)
    churn: bool = False


# Which peers an action may act on.
def _eligible(action: str, view: PeerView) -> set:
    if action == "restart":
        return set(view.killed)
    if action == "resume":
        return set(view.paused)
    if action in ("kill",):
        return view.running | view.paused
    if action == "pause":
        return set(view.running)
    return view.running | view.paused   # fault changes: kept for paused peers until resumed


class Timeline:
    def __init__(self, events: list[Event], world: int, seed: int):
        self.pending = list(events)
        self.world = world
        self.rng = random.Random(seed)
        self.background: list[tuple[float, str, dict]] = []  # (time, kill|restart, churn data)
        self.last_fired: float | None = None
        self.fired: list[Firing] = []

    def done(self) -> bool:
        return not self.pending and not self.background

    def waiting_on_restart(self) -> bool:
        """A restart is still to come (the run must not end before it)."""
        return any(kind == "restart" for _, kind, _ in self.background) or any(
            e.action in ("restart", "churn") for e in self.pending)

    def _triggered(self, event: Event, now: float, steps: dict) -> bool:
        if event.at is not None:
            return now >= event.at
        if event.step is not None:
            # Named peers: once those of them that run reached the step; else every running one.
            named = [steps[r] for r in event.peers if r in steps] if isinstance(
                event.peers, list) else []
            considered = named or list(steps.values())
            return bool(considered) and min(considered) >= event.step
        return now >= (self.last_fired or 0.0) + event.after

    def _resolve(self, event: Event, view: PeerView) -> tuple[list, str | None]:
        if event.action in ("partition", "heal", "churn"):
            return list(range(self.world)), None
        eligible = _eligible(event.action, view)
        if event.peers == "all":
            targets = sorted(eligible)
        elif event.peers == "random":
            if len(eligible) < event.count:
                return [], (f"{event.count} random peer(s) wanted, "
                            f"{len(eligible)} eligible for {event.action}")
            targets = sorted(self.rng.sample(sorted(eligible), event.count))
        else:
            missing = [r for r in event.peers if r not in eligible]
            targets = [r for r in event.peers if r in eligible]
            if missing:
                return targets, f"peer(s) {missing} not in a state to {event.action}"
        if not targets:
            return [], f"no peer in a state to {event.action}"
        return targets, None

    def due(self, now: float, steps: dict, view: PeerView) -> list[Firing]:
        """The events to apply at `now` (s since training started), in order. `steps`: the
        step of each running peer, by rank."""
        out: list[Firing] = []
        # Background churn first: each entry fires on its own time.
        keep = []
        for when, kind, data in sorted(self.background, key=lambda b: b[0]):
            if when > now:
                keep.append((when, kind, data))
                continue
            event = data["event"]
            if kind == "kill":
                live = view.running | view.paused
                candidates = sorted(view.running)
                if len(live) <= data["min-live"] or not candidates:
                    out.append(Firing(event, now, [], "churn: too few live peers to kill one",
                                      churn=True))
                    continue
                victim = self.rng.choice(candidates)
                view.running.discard(victim)
                view.killed.add(victim)
                out.append(Firing(_as(event, "kill"), now, [victim], churn=True))
                keep.append((now + event.params["downtime"], "restart",
                             {"event": event, "rank": victim}))
            else:
                rank = data["rank"]
                view.killed.discard(rank)
                view.running.add(rank)
                out.append(Firing(_as(event, "restart"), now, [rank], churn=True))
        self.background = keep
        while self.pending and self._triggered(self.pending[0], now, steps):
            event = self.pending.pop(0)
            targets, skipped = self._resolve(event, view)
            firing = Firing(event, now, targets, skipped)
            self._update_view(event.action, targets, view)
            if event.action == "churn":
                t = now
                while True:
                    t += self.rng.expovariate(1.0 / event.params["every"])
                    if t > now + event.params["for"]:
                        break
                    self.background.append((t, "kill", {"event": event,
                                                         "min-live": event.params["min-live"]}))
            self.last_fired = now
            self.fired.append(firing)
            out.append(firing)
        return out

    @staticmethod
    def _update_view(action: str, targets: list, view: PeerView) -> None:
        for r in targets:
            if action == "kill":
                view.running.discard(r)
                view.paused.discard(r)
                view.killed.add(r)
            elif action == "restart":
                view.killed.discard(r)
                view.running.add(r)
            elif action == "pause":
                view.running.discard(r)
                view.paused.add(r)
            elif action == "resume":
                view.paused.discard(r)
                view.running.add(r)


def _as(event: Event, action: str) -> Event:
    """A churn-generated event: the churn event's timing with a kill or restart action."""
    return Event(index=event.index, action=action, at=event.at, step=event.step,
                 after=event.after, peers="random", params={})


def partition_sets(groups: list[list[int]], world: int) -> dict[int, list[int]]:
    """For each rank, the ranks it is cut off from. Ranks in no group form one group together."""
    rest = [r for r in range(world) if not any(r in g for g in groups)]
    all_groups = [g for g in groups] + ([rest] if rest else [])
    cut = {}
    for group in all_groups:
        for r in group:
            cut[r] = sorted(set(range(world)) - set(group))
    return cut

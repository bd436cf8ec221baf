"""spec.py — a scenario file (TOML) parsed and validated into plain dataclasses.

Every error is a SpecError whose message names the key (`event[2].p`), the value and what
would be valid. `load(path, quick)` merges the `[quick]` table over the rest first.
See docs/SCENARIOS.md for the format.
"""
from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


class SpecError(Exception):
    """A scenario file that cannot be run; the message names the file and key."""


def _is_scale(mode: str) -> bool:
    try:
        return mode.startswith("scale:") and float(mode[6:]) == float(mode[6:])
    except ValueError:
        return False


# Event actions and the parameters each takes: name -> (type, required, check, valid text).
_PROB = (float, True, lambda v: 0.0 <= v <= 1.0, "a probability in [0, 1]")
_MS = (int, True, lambda v: 0 <= v <= 3_600_000, "an integer in [0, 3600000] (ms)")
_POS = (float, True, lambda v: v > 0, "a number > 0 (s)")
ACTIONS = {
    "kill": {},
    "restart": {},
    "pause": {},
    "resume": {},
    "slow": {"factor": (float, True, lambda v: v >= 1.0, "a number >= 1")},
    "drop": {"p": _PROB},
    "duplicate": {"p": _PROB},
    "corrupt": {"p": _PROB},
    "delay": {"ms": _MS, "jitter-ms": (int, False, lambda v: 0 <= v <= 3_600_000,
                                       "an integer in [0, 3600000] (ms)")},
    "partition": {"groups": (list, True, None, "a list of lists of ranks")},
    "heal": {},
    "clear": {},
    "byzantine": {"mode": (str, True,
                           lambda v: v in ("none", "nan", "garbage") or _is_scale(v),
                           "none, nan, garbage or scale:F")},
    "bandwidth": {"mbit": (float, True, lambda v: v >= 0, "Mbit/s >= 0 (0: no limit)")},
    "loss": {"p": _PROB},
    "fail-replica": {"replica": (int, True, lambda v: v >= 0,
                                 "a local replica number >= 0 (the peers need --local-replicas)")},
    "churn": {"every": _POS, "for": _POS, "downtime": _POS,
              "min-live": (int, False, lambda v: v >= 1, "an integer >= 1")},
}
# Actions that act on every peer unless `peers` says otherwise, and those that need a target.
_ALL_BY_DEFAULT = {"slow", "drop", "duplicate", "corrupt", "delay", "heal", "clear",
                   "bandwidth", "loss"}
# Actions on the real links between network namespaces: only with cluster.network = "netns".
NETNS_ACTIONS = {"bandwidth", "loss"}
_NO_TARGET = {"partition", "churn", "heal"}

_CLUSTER_KEYS = {
    "peers": int, "rule": str, "topology": str, "model": str, "shard": str, "epochs": int,
    "limit-train": int, "limit-test": int, "seed": int, "checkpoint-every": int,
    "timeout": float, "flags": list, "transport": str, "network": str, "startup-timeout": float,
}
_EXPECT_KEYS = {
    "min-accuracy": float, "min-consensus-accuracy": float, "max-consensus-distance": float,
    "all-progressed": bool, "max-stall": float, "max-crashes": int, "all-events-fired": bool,
    "min-survivors": int, "bad-messages-rejected": bool, "lies-rejected": bool,
}


@dataclass
class Cluster:
    peers: int = 4
    epochs: int = 2
    seed: int = 1
    checkpoint_every: int = 10
    timeout: float = 300.0          # s, the whole run
    startup_timeout: float = 60.0   # s, until every peer has taken a step
    transport: str = "ipc"          # ipc | tcp
    network: str = "loopback"       # loopback | netns (then transport is tcp)
    options: dict = field(default_factory=dict)  # rule, topology, model, shard, limits
    flags: list = field(default_factory=list)    # extra arguments for every rumor peer

    def local_replicas(self) -> int:
        """The replicas per peer the flags ask for (--local-replicas K), else 1."""
        flags = [str(f) for f in self.flags]
        for i, flag in enumerate(flags):
            if flag == "--local-replicas" and i + 1 < len(flags) and flags[i + 1].isdigit():
                return int(flags[i + 1])
            if flag.startswith("--local-replicas=") and flag.split("=", 1)[1].isdigit():
                return int(flag.split("=", 1)[1])
        return 1

    def peer_args(self) -> list[str]:
        """The `rumor peer` options this cluster gives every peer (no rank, paths or http)."""
        args = ["--epochs", str(self.epochs), "--seed", str(self.seed)]
        for key, value in sorted(self.options.items()):
            args += [f"--{key}", str(value)]
        return args + [str(f) for f in self.flags]


@dataclass
class Event:
    index: int
    action: str
    at: float | None = None      # s after training started
    step: int | None = None      # once the named peers (else every running one) reached it
    after: float | None = None   # s after the previous event fired
    peers: list[int] | str = "all"   # ranks, "all" or "random"
    count: int = 1               # with peers = "random"
    params: dict = field(default_factory=dict)

    def describe(self) -> str:
        when = (f"t={self.at:g}s" if self.at is not None else f"step {self.step}"
                if self.step is not None else f"+{self.after:g}s")
        params = " ".join(f"{k}={v}" for k, v in self.params.items())
        target = "" if self.action in _NO_TARGET else (
            f" peers {self.peers}" if self.peers != "random" else f" {self.count} random peer(s)")
        return f"{when}: {self.action}{target}{(' ' + params) if params else ''}"


@dataclass
class Expect:
    min_accuracy: float | None = None
    min_consensus_accuracy: float | None = None
    max_consensus_distance: float | None = None
    all_progressed: bool = True
    max_stall: float = 30.0       # s a running, unpaused peer may go without a step
    max_crashes: int = 0          # exits the runner did not cause
    all_events_fired: bool = True
    min_survivors: int | None = None
    bad_messages_rejected: bool = False  # corrupted messages were rejected and counted
    lies_rejected: bool = False  # a Byzantine peer lied and its neighbours rejected its lies


@dataclass
class Scenario:
    name: str
    description: str
    cluster: Cluster
    events: list[Event]
    expect: Expect
    path: Path | None = None
    quick: bool = False


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _typed(where: str, value, kind):
    """value checked against kind (an int is accepted for float); raises SpecError."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise SpecError(f"{where} = {value!r}: expected {kind.__name__}")
    return value


def _check_keys(where: str, table: dict, known) -> None:
    for key in table:
        if key not in known:
            raise SpecError(f"{where}: unknown key '{key}' (valid: {', '.join(sorted(known))})")


def _ranks(where: str, value, world: int) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(r, int) and not isinstance(r, bool)
                                              for r in value):
        raise SpecError(f"{where} = {value!r}: expected a list of ranks, \"all\" or \"random\"")
    for r in value:
        if not 0 <= r < world:
            raise SpecError(f"{where}: rank {r} is not a peer (valid: 0..{world - 1})")
    if len(set(value)) != len(value):
        raise SpecError(f"{where} = {value!r}: a rank appears twice")
    return list(value)


def _parse_cluster(table: dict) -> Cluster:
    _check_keys("cluster", table, _CLUSTER_KEYS)
    c = Cluster()
    for key, value in table.items():
        value = _typed(f"cluster.{key}", value, _CLUSTER_KEYS[key])
        if key in ("peers", "epochs", "seed", "checkpoint-every", "timeout", "transport",
                   "network", "startup-timeout", "flags"):
            setattr(c, key.replace("-", "_"), value)
        else:
            c.options[key] = value
    if c.peers < 1 or c.peers > 64:
        raise SpecError(f"cluster.peers = {c.peers}: valid: 1..64")
    if c.epochs < 1:
        raise SpecError(f"cluster.epochs = {c.epochs}: valid: an integer >= 1")
    if c.checkpoint_every < 1:
        raise SpecError(f"cluster.checkpoint-every = {c.checkpoint_every}: valid: >= 1 (steps)")
    if c.timeout <= 0 or c.startup_timeout <= 0:
        raise SpecError("cluster.timeout and cluster.startup-timeout: valid: seconds > 0")
    if c.transport not in ("ipc", "tcp"):
        raise SpecError(f"cluster.transport = {c.transport!r}: valid: \"ipc\" or \"tcp\"")
    if c.network not in ("loopback", "netns"):
        raise SpecError(f"cluster.network = {c.network!r}: valid: \"loopback\" or \"netns\"")
    if c.network == "netns":
        if "transport" in table and c.transport != "tcp":
            raise SpecError(f"cluster.transport = {c.transport!r}: with network = \"netns\" "
                            "peers talk over veth links: valid: \"tcp\"")
        c.transport = "tcp"
    for key in ("limit-train", "limit-test"):
        if key in c.options and c.options[key] < 0:
            raise SpecError(f"cluster.{key} = {c.options[key]}: valid: an integer >= 0")
    if not all(isinstance(f, (str, int, float)) for f in c.flags):
        raise SpecError(f"cluster.flags = {c.flags!r}: expected a list of strings")
    return c


def _parse_event(i: int, table: dict, world: int) -> Event:
    where = f"event[{i}]"
    if not isinstance(table, dict):
        raise SpecError(f"{where}: expected a table ([[event]])")
    action = table.get("do")
    if action not in ACTIONS:
        raise SpecError(f"{where}.do = {action!r}: valid: {', '.join(ACTIONS)}")
    params_spec = ACTIONS[action]
    _check_keys(where, table, {"do", "at", "step", "after", "peers", "count", *params_spec})
    event = Event(index=i, action=action)
    if sum(k in table for k in ("at", "step", "after")) != 1:
        raise SpecError(f"{where} ({action}): give exactly one of 'at' (seconds after training "
                        "started), 'step' or 'after' (seconds after the previous event)")
    for key in ("at", "after"):
        if key in table:
            setattr(event, key, _typed(f"{where}.{key}", table[key], float))
            if getattr(event, key) < 0:
                raise SpecError(f"{where}.{key} = {table[key]}: valid: seconds >= 0")
    if "step" in table:
        event.step = _typed(f"{where}.step", table["step"], int)
        if event.step < 0:
            raise SpecError(f"{where}.step = {event.step}: valid: a step >= 0")
    if action in _NO_TARGET and "peers" in table:
        raise SpecError(f"{where}: '{action}' takes no 'peers'")
    peers = table.get("peers", "all" if action in _ALL_BY_DEFAULT | _NO_TARGET else None)
    if peers is None:
        raise SpecError(f"{where} ({action}): 'peers' is required (a list of ranks or \"random\")")
    if peers in ("all", "random"):
        event.peers = peers
    else:
        event.peers = _ranks(f"{where}.peers", peers, world)
    if "count" in table:
        if event.peers != "random":
            raise SpecError(f"{where}.count: only with peers = \"random\"")
        event.count = _typed(f"{where}.count", table["count"], int)
        if not 1 <= event.count <= world:
            raise SpecError(f"{where}.count = {event.count}: valid: 1..{world}")
    for name, (kind, required, check, valid) in params_spec.items():
        if name not in table:
            if required:
                raise SpecError(f"{where} ({action}): '{name}' is required ({valid})")
            continue
        value = _typed(f"{where}.{name}", table[name], kind)
        if check is not None and not check(value):
            raise SpecError(f"{where}.{name} = {value!r}: valid: {valid}")
        event.params[name] = value
    if action == "partition":
        groups = event.params["groups"]
        if not groups:
            raise SpecError(f"{where}.groups: at least one group")
        seen: list[int] = []
        for g, group in enumerate(groups):
            seen += _ranks(f"{where}.groups[{g}]", group, world)
        if len(set(seen)) != len(seen):
            raise SpecError(f"{where}.groups: a rank is in two groups")
        event.params["groups"] = [list(g) for g in groups]
    if action == "churn":
        min_live = event.params.setdefault("min-live", max(1, world - 1))
        if min_live >= world:
            raise SpecError(f"{where}.min-live = {min_live}: valid: 1..{world - 1} "
                            "(churn must be able to kill someone)")
    return event


def _parse_expect(table: dict, world: int) -> Expect:
    _check_keys("expect", table, _EXPECT_KEYS)
    e = Expect()
    for key, value in table.items():
        setattr(e, key.replace("-", "_"), _typed(f"expect.{key}", value, _EXPECT_KEYS[key]))
    for key in ("min-accuracy", "min-consensus-accuracy"):
        value = getattr(e, key.replace("-", "_"))
        if value is not None and not 0.0 <= value <= 1.0:
            raise SpecError(f"expect.{key} = {value}: valid: an accuracy in [0, 1]")
    if e.max_consensus_distance is not None and e.max_consensus_distance < 0:
        raise SpecError(f"expect.max-consensus-distance = {e.max_consensus_distance}: valid: >= 0")
    if e.max_stall <= 0:
        raise SpecError(f"expect.max-stall = {e.max_stall}: valid: seconds > 0")
    if e.max_crashes < 0:
        raise SpecError(f"expect.max-crashes = {e.max_crashes}: valid: >= 0")
    if e.min_survivors is not None and not 0 <= e.min_survivors <= world:
        raise SpecError(f"expect.min-survivors = {e.min_survivors}: valid: 0..{world}")
    return e


def parse(doc: dict, quick: bool = False, source: str = "<scenario>") -> Scenario:
    """A scenario from a parsed TOML document; with quick, [quick] is merged over it first."""
    try:
        _check_keys("top level", doc, {"name", "description", "cluster", "event", "expect",
                                       "quick"})
        quick_table = doc.get("quick", {})
        if not isinstance(quick_table, dict):
            raise SpecError("quick: expected a table")
        _check_keys("quick", quick_table, {"cluster", "event", "expect"})
        if quick:
            doc = _merge(doc, quick_table)
        name = doc.get("name")
        if not isinstance(name, str) or not name:
            raise SpecError(f"name = {name!r}: a non-empty string is required")
        for key in ("cluster", "expect"):
            if not isinstance(doc.get(key, {}), dict):
                raise SpecError(f"{key}: expected a table ([{key}])")
        cluster = _parse_cluster(doc.get("cluster", {}))
        events_doc = doc.get("event", [])
        if not isinstance(events_doc, list):
            raise SpecError("event: expected an array of tables ([[event]])")
        events = [_parse_event(i, t, cluster.peers) for i, t in enumerate(events_doc)]
        for e in events:
            if e.action in NETNS_ACTIONS and cluster.network != "netns":
                raise SpecError(f"event[{e.index}] ({e.action}): acts on real links between "
                                "network namespaces: only with cluster.network = \"netns\"")
            if e.action == "fail-replica" and e.params["replica"] >= cluster.local_replicas():
                raise SpecError(f"event[{e.index}] (fail-replica): replica {e.params['replica']} "
                                f"does not exist: the peers have {cluster.local_replicas()} (set "
                                "cluster.flags = [\"--local-replicas\", \"K\", ...])")
        expect = _parse_expect(doc.get("expect", {}), cluster.peers)
    except SpecError as error:
        raise SpecError(f"{source}: {error}") from None
    return Scenario(name=name, description=str(doc.get("description", "")), cluster=cluster,
                    events=events, expect=expect, quick=quick)


def load(path: str | Path, quick: bool = False) -> Scenario:
    """Reads and validates a scenario file; SpecError names the file and the key."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as error:
        raise SpecError(f"{path}: cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{path}: not valid TOML: {error}") from None
    scenario = parse(doc, quick, str(path))
    scenario.path = path
    return scenario

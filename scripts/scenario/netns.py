"""netns.py — `network = "netns"`: each peer in its own network namespace, joined by veth.

Layout (NAME = rumor-PID, PID the runner's; interface names fit Linux's 15 characters):

    NAME-0 [eth0 10.213.B.1] --veth--+
    NAME-1 [eth0 10.213.B.2] --veth--+-- bridge br0 in NAME-hub      (the gossip links)
    ...                              +
    NAME-0 [mgmt0 10.213.M.1] --veth--+
    NAME-1 [mgmt0 10.213.M.2] --veth--+-- bridge br1 in NAME-hub --veth-- [rsPIDr 10.213.M.254] root
    ...                               +

Peers gossip over br0, so their messages cross real links. The runner, in the root namespace,
reaches every peer's HTTP endpoint over br1, a management network of its own: what is done to
the gossip links (a 10 Mbit/s cap, packet loss) must not hide a peer's progress from the
runner, or a step-triggered event could miss its step (a capped link queues the runner's
/status replies behind parameter messages for seconds). The hub namespace holds the bridges so
that nothing in the root namespace's firewall (a Docker FORWARD policy, br_netfilter) sees the
traffic. `bandwidth` is a tc tbf qdisc on a peer's eth0 (its upload), `loss` an iptables
statistic DROP rule on eth0 in the peer's namespace: both live inside the namespaces and
vanish with them. The root namespace gets one veth, removed by `teardown()`; `remove_stale()`
removes what a runner that was SIGKILLed left behind.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess

SUBNET_PREFIX = "10.213"
GOSSIP_PORT = 7100
TOOLS = ("ip", "tc", "iptables")


class NetnsUnavailable(Exception):
    """This machine cannot run a netns scenario; the message says what is missing."""


def _run(*args: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise NetnsUnavailable(f"`{' '.join(args)}` failed: {result.stderr.strip()}")


def _quiet(*args: str) -> bool:
    return subprocess.run(args, capture_output=True).returncode == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def unavailable_reason() -> str | None:
    """Why a netns scenario cannot run here (None: it can)."""
    if os.geteuid() != 0:
        return "network = \"netns\" needs root (network namespaces, tc, iptables)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return (f"network = \"netns\" needs {', '.join(missing)} "
                "(Debian: apt-get install iproute2 iptables; scripts/setup.sh installs them)")
    # Root in a container may still lack CAP_SYS_ADMIN, or the kernel the tbf qdisc or the
    # iptables statistic match: try all three in a throw-away namespace.
    probe = f"rumor-{os.getpid()}-probe"
    result = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if result.returncode != 0:
        return f"cannot create a network namespace here: {result.stderr.strip()}"
    try:
        for what, command in (
                ("a tc tbf qdisc", ["tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate",
                                    "1mbit", "burst", "16384", "latency", "100ms"]),
                ("an iptables statistic rule", ["iptables", "-A", "OUTPUT", "-o", "lo", "-m",
                                                "statistic", "--mode", "random",
                                                "--probability", "0.5", "-j", "DROP"])):
            result = subprocess.run(["ip", "netns", "exec", probe, *command],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                return f"cannot set {what} in a network namespace here: {result.stderr.strip()}"
    finally:
        _quiet("ip", "netns", "del", probe)
    return None


def remove_stale() -> list[str]:
    """Deletes namespaces and root veths of runners that no longer exist; returns their names."""
    removed = []
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        match = re.match(r"(rumor-(\d+)-\S+)", line)
        if match and not _alive(int(match.group(2))):
            _quiet("ip", "netns", "del", match.group(1))
            removed.append(match.group(1))
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    for match in re.finditer(r"^\d+: (rs(\d+)r)[@:]", links, re.M):
        if not _alive(int(match.group(2))):
            _quiet("ip", "link", "del", match.group(1))
            removed.append(match.group(1))
    return removed


class Network:
    """The namespaces and links of one scenario run. Use `setup()`, then `teardown()`."""

    def __init__(self, world: int, pid: int | None = None):
        self.world = world
        self.pid = os.getpid() if pid is None else pid
        self.name = f"rumor-{self.pid}"
        self.subnet = None      # "10.213.B": the gossip links
        self.management_subnet = None  # "10.213.M": the runner's
        self.created: list[str] = []   # namespaces, for teardown
        self.root_link = f"rs{self.pid}r"

    def namespace(self, rank: int) -> str:
        return f"{self.name}-{rank}"

    def address(self, rank: int) -> str:
        return f"{self.subnet}.{rank + 1}"

    def management_address(self, rank: int) -> str:
        """Where the runner reaches the peer (its HTTP endpoint), off the gossip links."""
        return f"{self.management_subnet}.{rank + 1}"

    def endpoints(self) -> list[str]:
        return [f"{self.address(r)}:{GOSSIP_PORT}" for r in range(self.world)]

    def wrap(self, rank: int, command: list[str]) -> list[str]:
        """The command run inside the peer's namespace (`ip netns exec` execs it: same pid)."""
        return ["ip", "netns", "exec", self.namespace(rank), *command]

    def _free_subnet(self, taken: str | None = None) -> str:
        used = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True,
                              text=True).stdout
        used += subprocess.run(["ip", "-4", "route", "show"], capture_output=True,
                               text=True).stdout
        for i in range(250):
            b = (self.pid + i) % 250 + 1
            if f"{SUBNET_PREFIX}.{b}." not in used and f"{SUBNET_PREFIX}.{b}" != taken:
                return f"{SUBNET_PREFIX}.{b}"
        raise NetnsUnavailable(f"no free {SUBNET_PREFIX}.x.0/24 subnet for the namespaces")

    def setup(self) -> None:
        """Creates the namespaces, the bridge and the links; NetnsUnavailable on failure (after
        removing what it created)."""
        reason = unavailable_reason()
        if reason:
            raise NetnsUnavailable(reason)
        remove_stale()
        self.subnet = self._free_subnet()
        self.management_subnet = self._free_subnet(taken=self.subnet)
        hub = f"{self.name}-hub"
        try:
            for ns in [hub] + [self.namespace(r) for r in range(self.world)]:
                _run("ip", "netns", "add", ns)
                self.created.append(ns)
                _run("ip", "-n", ns, "link", "set", "lo", "up")
            for bridge in ("br0", "br1"):
                _run("ip", "-n", hub, "link", "add", bridge, "type", "bridge")
                _run("ip", "-n", hub, "link", "set", bridge, "up")
            for r in range(self.world):
                ns = self.namespace(r)
                for name, address, bridge, tag in (("eth0", self.address(r), "br0", "p"),
                                                   ("mgmt0", self.management_address(r), "br1",
                                                    "q")):
                    inner, outer = f"rs{self.pid}{tag}{r}", f"rs{self.pid}{tag}h{r}"
                    _run("ip", "link", "add", inner, "netns", ns, "type", "veth", "peer",
                         "name", outer, "netns", hub)
                    _run("ip", "-n", ns, "link", "set", inner, "name", name)
                    _run("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", name)
                    _run("ip", "-n", ns, "link", "set", name, "up")
                    _run("ip", "-n", hub, "link", "set", outer, "master", bridge, "up")
            _run("ip", "link", "add", self.root_link, "type", "veth", "peer", "name", "uplink",
                 "netns", hub)
            _run("ip", "-n", hub, "link", "set", "uplink", "master", "br1", "up")
            _run("ip", "addr", "add", f"{self.management_subnet}.254/24", "dev", self.root_link)
            _run("ip", "link", "set", self.root_link, "up")
        except NetnsUnavailable:
            self.teardown()
            raise

    def set_bandwidth(self, rank: int, mbit: float) -> None:
        """Limits the peer's upload to `mbit` Mbit/s (tc tbf); 0 removes the limit."""
        _quiet(*self.wrap(rank, ["tc", "qdisc", "del", "dev", "eth0", "root"]))
        if mbit > 0:
            rate = int(mbit * 1_000_000)
            burst = max(rate // 8 // 100, 16_384)   # 10 ms at the rate, at least 16 KiB
            _run(*self.wrap(rank, ["tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate",
                                   f"{rate}bit", "burst", str(burst), "latency", "100ms"]))

    def set_loss(self, rank: int, p: float) -> None:
        """Drops each packet the peer sends with probability p (iptables); 0 removes it."""
        _quiet(*self.wrap(rank, ["iptables", "-F", "OUTPUT"]))
        if p > 0:
            _run(*self.wrap(rank, ["iptables", "-A", "OUTPUT", "-o", "eth0", "-m", "statistic",
                                   "--mode", "random", "--probability", f"{p:.6f}", "-j",
                                   "DROP"]))

    def teardown(self) -> None:
        """Removes everything setup() created (the iptables rules and qdiscs go with their
        namespaces). Safe to call twice."""
        _quiet("ip", "link", "del", self.root_link)
        for ns in reversed(self.created):
            _quiet("ip", "netns", "del", ns)
        self.created = []

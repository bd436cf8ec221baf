"""cluster.py — the peer processes of a scenario on this machine, and what is done to them.

One `Peer` per rank: its `rumor peer` process (started with --enable-faults, an HTTP endpoint
on a free loopback port — or, with network = "netns", inside its namespace on its veth address —
checkpoints), its state, the faults the scenario wants on it (posted
to /faults, and posted again after a restart), and what its /status said last.
`Cluster.shutdown()` leaves no process behind: SIGCONT, SIGTERM, then SIGKILL after a grace
period. Peers also get SIGKILL from the kernel if the runner itself dies (PR_SET_PDEATHSIG).
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from .spec import Scenario

# What each peer counts across restarts: bad messages it rejected (validation), messages its
# fault injection corrupted, parameter messages it sent as a Byzantine peer (lies), and
# implausible parameters it rejected (outliers).
COUNTERS = ("rejected", "corrupted", "lies", "outliers")

CLEAR_FAULTS = {"drop": 0.0, "duplicate": 0.0, "corrupt": 0.0, "delay_ms": 0, "jitter_ms": 0,
                "partition": [], "slowdown": 1.0, "byzantine": "none"}


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the runner dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class PeerError(Exception):
    """A peer refused a request (HTTP 400/403): the scenario or the runner is wrong."""


class Peer:
    def __init__(self, rank: int, out: Path):
        self.rank = rank
        self.out = out
        self.ckpt = out / "ckpt"
        self.proc: subprocess.Popen | None = None
        self.log = None
        self.state = "new"       # new, running, paused, killed, exited
        self.http: str | None = None
        self.faults: dict = {}   # wanted on this peer; posted when it can answer
        self.faults_dirty = False
        self.status: dict | None = None
        self.step = 0
        self.last_progress = None  # monotonic time of the last new step (or start/resume)
        self.max_stall = 0.0
        self.starts = 0
        self.unexpected_exits: list[int] = []
        self.failing_replica: int | None = None  # told to fail (fail-replica): exit 1 expected
        self.counted = dict.fromkeys(COUNTERS, 0)  # by earlier incarnations
        self.counting = dict.fromkeys(COUNTERS, 0)  # by this one (its last /status)

    def total(self, counter: str) -> int:
        """A COUNTERS entry over every incarnation of this peer."""
        return self.counted[counter] + self.counting[counter]


def status_counters(status: dict) -> dict:
    """The COUNTERS a /status answer holds (each incarnation counts from zero)."""
    faults = status.get("faults") or {}
    return {"rejected": sum(n.get("rejected", 0) for n in status.get("neighbours", [])),
            "corrupted": faults.get("corrupted", 0),
            "lies": faults.get("byzantine", 0),
            "outliers": (status.get("gossip") or {}).get("rejected_outliers", 0)}


class Cluster:
    def __init__(self, rumor: str, scenario: Scenario, out: Path, log=print, network=None):
        """`network`: a set-up netns.Network when cluster.network = "netns", else None."""
        self.rumor = rumor
        self.scenario = scenario
        self.out = out
        self.say = log
        self.network = network
        c = scenario.cluster
        self.socket_dir = Path(tempfile.mkdtemp(prefix="rumor-scn-"))  # ipc paths are short
        if network is not None:
            endpoints = network.endpoints()
        elif c.transport == "tcp":
            import socket
            socks = [socket.socket() for _ in range(c.peers)]
            for s in socks:
                s.bind(("127.0.0.1", 0))
            endpoints = [f"127.0.0.1:{s.getsockname()[1]}" for s in socks]
            for s in socks:
                s.close()
        else:
            endpoints = [f"ipc://{self.socket_dir}/p{r}" for r in range(c.peers)]
        self.peers_file = out / "peers.txt"
        self.peers_file.write_text("\n".join(endpoints) + "\n")
        self.peers = [Peer(r, out / f"peer-{r}") for r in range(c.peers)]

    # --- processes -------------------------------------------------------------------------
    def start(self, rank: int, resume: bool = False) -> None:
        peer = self.peers[rank]
        c = self.scenario.cluster
        peer.out.mkdir(parents=True, exist_ok=True)
        (peer.out / "http.addr").unlink(missing_ok=True)
        if not resume:
            (peer.out / "metrics.jsonl").unlink(missing_ok=True)
        # In a namespace the runner reaches the endpoint over the management link (netns.py).
        http = f"{self.network.management_address(rank)}:0" if self.network else "127.0.0.1:0"
        command = [self.rumor, "peer", "--peers", str(self.peers_file), "--rank", str(rank),
                   "--out", str(peer.out), "--http", http, "--enable-faults",
                   "--checkpoint-dir", str(peer.ckpt),
                   "--checkpoint-every", str(c.checkpoint_every), "--progress-every", "1",
                   *c.peer_args()]
        if resume:
            command.append("--resume")
        if self.network:
            command = self.network.wrap(rank, command)
        peer.log = open(peer.out / "peer.log", "a" if resume else "w")
        peer.log.write(f"# {' '.join(command)}\n")
        peer.log.flush()
        peer.proc = subprocess.Popen(command, stdout=peer.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=_die_with_parent)
        peer.state = "running"
        peer.http = None
        peer.starts += 1
        for counter in COUNTERS:
            peer.counted[counter] += peer.counting[counter]
            peer.counting[counter] = 0
        peer.last_progress = time.monotonic()
        peer.faults_dirty = bool(peer.faults)

    def start_all(self) -> None:
        for r in range(len(self.peers)):
            self.start(r)

    def kill(self, rank: int) -> None:
        peer = self.peers[rank]
        if peer.proc and peer.proc.poll() is None:
            peer.proc.send_signal(signal.SIGKILL)
            peer.proc.wait()
        peer.state = "killed"
        peer.http = None

    def pause(self, rank: int) -> None:
        peer = self.peers[rank]
        peer.proc.send_signal(signal.SIGSTOP)
        peer.state = "paused"

    def resume(self, rank: int) -> None:
        peer = self.peers[rank]
        peer.proc.send_signal(signal.SIGCONT)
        peer.state = "running"
        peer.last_progress = time.monotonic()

    def restart(self, rank: int) -> None:
        if self.peers[rank].log:
            self.peers[rank].log.close()
        self.start(rank, resume=True)

    def want_faults(self, rank: int, fields: dict) -> None:
        """Records faults for a peer; they are posted as soon as it can answer."""
        peer = self.peers[rank]
        peer.faults.update(fields)
        peer.faults_dirty = True

    def fail_replica(self, rank: int, replica: int) -> None:
        """Makes local replica `replica` of the peer fail; the peer then stops (exit 1)."""
        self.want_faults(rank, {"fail_replica": replica})
        self.peers[rank].failing_replica = replica

    def running(self) -> list[Peer]:
        return [p for p in self.peers if p.state in ("running", "paused")]

    # --- HTTP --------------------------------------------------------------------------------
    def _request(self, peer: Peer, path: str, body: dict | None = None, timeout: float = 1.0):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://{peer.http}{path}", data=data,
                                         method="GET" if body is None else "POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            message = error.read().decode(errors="replace")
            if error.code in (400, 403):
                raise PeerError(f"peer {peer.rank} refused {path}: HTTP {error.code} {message}")
            return None
        except (OSError, ValueError):
            return None   # not up yet, exiting, or busy: asked again at the next poll

    def poll(self) -> None:
        """Reaps exits, reads each running peer's /status, posts pending faults."""
        now = time.monotonic()
        for peer in self.peers:
            if peer.proc is None or peer.state not in ("running", "paused"):
                continue
            code = peer.proc.poll()
            if code is not None:
                peer.state = "exited"
                if code == 1 and peer.failing_replica is not None:
                    # The injected replica failure stopped the node, as it should: it is down,
                    # like a killed peer, until a restart event resumes it from its checkpoint.
                    self.say(f"peer {peer.rank} stopped after its replica "
                             f"{peer.failing_replica} failed (injected)")
                    peer.state = "killed"
                    peer.faults.pop("fail_replica", None)
                    peer.failing_replica = None
                elif code != 0:
                    peer.unexpected_exits.append(code)
                    self.say(f"peer {peer.rank} exited with {code} (see {peer.out}/peer.log)")
                peer.http = None
                continue
            if peer.state == "paused":
                continue
            if peer.http is None:
                try:
                    text = (peer.out / "http.addr").read_text().strip()
                    peer.http = text or None
                except OSError:
                    pass
            if peer.http is None:
                peer.max_stall = max(peer.max_stall, now - peer.last_progress)
                continue
            if peer.faults_dirty:
                if self._request(peer, "/faults", peer.faults) is not None:
                    peer.faults_dirty = False
            status = self._request(peer, "/status")
            if status is not None:
                peer.status = status
                peer.counting = status_counters(status)
                if status.get("step", 0) > peer.step or peer.step > status.get("step", 0):
                    peer.step = status.get("step", 0)
                    peer.last_progress = now
            peer.max_stall = max(peer.max_stall, now - peer.last_progress)

    # --- the end -------------------------------------------------------------------------------
    def wait_exits(self, deadline: float) -> None:
        """Waits (polling) until no peer runs, or the monotonic deadline."""
        while self.running() and time.monotonic() < deadline:
            self.poll()
            time.sleep(0.2)

    def shutdown(self, grace: float = 10.0) -> None:
        """Stops every peer still running: SIGCONT + SIGTERM, then SIGKILL after `grace` s."""
        live = [p for p in self.peers if p.proc is not None and p.proc.poll() is None]
        for peer in live:
            for sig in (signal.SIGCONT, signal.SIGTERM):
                try:
                    peer.proc.send_signal(sig)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for peer in live:
            try:
                peer.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                peer.proc.kill()
                peer.proc.wait()
        for peer in self.peers:
            if peer.log:
                peer.log.close()
                peer.log = None
        for path in self.socket_dir.glob("*"):
            path.unlink(missing_ok=True)
        try:
            self.socket_dir.rmdir()
        except OSError:
            pass

"""The netns network of `network = "netns"` scenarios: namespaces joined over veth, the runner
reaching each peer over a management link of its own, link limits applied to the gossip links
inside the namespaces, and nothing left behind.
Needs root, ip, tc and iptables: skipped with the reason otherwise.
"""
import os
import socket
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from scenario import netns  # noqa: E402

LISTEN = """
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
s.listen()
print(s.getsockname()[1], flush=True)
c, peer = s.accept()
c.sendall(peer[0].encode())
c.close()
"""


def listen_in(network, rank, address):
    """A one-shot server on `address` in the rank's namespace: (process, port). It sends the
    client's IP."""
    proc = subprocess.Popen(network.wrap(rank, [sys.executable, "-c", LISTEN, address]),
                            stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def names(kind):
    args = ["ip", "netns", "list"] if kind == "netns" else ["ip", "-o", "link", "show"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


UNAVAILABLE = netns.unavailable_reason()


@unittest.skipIf(UNAVAILABLE, UNAVAILABLE or "")
class NetworkTest(unittest.TestCase):
    def setUp(self):
        self.network = netns.Network(3, pid=os.getpid())
        self.network.setup()
        self.addCleanup(self.network.teardown)

    def test_runner_and_peers_reach_each_other_over_veth(self):
        n = self.network
        self.assertNotEqual(n.subnet, n.management_subnet)
        proc, port = listen_in(n, 0, n.management_address(0))
        with socket.create_connection((n.management_address(0), port), timeout=5) as s:
            self.assertEqual(s.recv(64).decode(), f"{n.management_subnet}.254")   # the root's veth
        proc.wait(timeout=5)
        proc, port = listen_in(n, 2, n.address(2))
        client = subprocess.run(n.wrap(1, [sys.executable, "-c",
                                           "import socket, sys; s = socket.create_connection("
                                           "(sys.argv[1], int(sys.argv[2])), timeout=5); "
                                           "print(s.recv(64).decode())",
                                           n.address(2), str(port)]),
                                capture_output=True, text=True, timeout=10)
        self.assertEqual(client.stdout.strip(), n.address(1))
        proc.wait(timeout=5)
        self.assertEqual(n.endpoints()[2], f"{n.address(2)}:{netns.GOSSIP_PORT}")

    def test_limits_live_in_the_peer_namespace(self):
        n = self.network
        n.set_bandwidth(1, 20)
        n.set_loss(1, 0.25)
        qdisc = subprocess.run(n.wrap(1, ["tc", "qdisc", "show", "dev", "eth0"]),
                               capture_output=True, text=True).stdout
        self.assertIn("tbf", qdisc)
        self.assertIn("20Mbit", qdisc)
        rules = subprocess.run(n.wrap(1, ["iptables", "-S", "OUTPUT"]), capture_output=True,
                               text=True).stdout
        self.assertIn("--probability 0.25", rules)
        self.assertNotIn("statistic", subprocess.run(
            n.wrap(0, ["iptables", "-S", "OUTPUT"]), capture_output=True, text=True).stdout)
        self.assertIn("-o eth0", rules)   # the gossip link only: the runner's link keeps its pace
        self.assertNotIn("tbf", subprocess.run(n.wrap(1, ["tc", "qdisc", "show", "dev", "mgmt0"]),
                                               capture_output=True, text=True).stdout)
        n.set_bandwidth(1, 0)
        n.set_loss(1, 0)
        self.assertNotIn("tbf", subprocess.run(n.wrap(1, ["tc", "qdisc", "show", "dev", "eth0"]),
                                               capture_output=True, text=True).stdout)
        self.assertNotIn("statistic", subprocess.run(
            n.wrap(1, ["iptables", "-S", "OUTPUT"]), capture_output=True, text=True).stdout)

    def test_teardown_leaves_nothing(self):
        n = self.network
        self.assertIn(f"{n.name}-hub", names("netns"))
        n.teardown()
        self.assertNotIn(n.name + "-", names("netns"))
        self.assertNotIn(n.root_link, names("link"))

    def test_stale_network_of_a_dead_runner_is_removed(self):
        dead = subprocess.Popen(["true"])
        dead.wait()   # a pid that no longer runs
        stale = netns.Network(2, pid=dead.pid)
        stale.setup()
        removed = netns.remove_stale()
        self.assertIn(f"{stale.name}-hub", removed)
        self.assertIn(stale.root_link, removed)
        self.assertNotIn(stale.name + "-", names("netns"))
        self.assertIn(f"{self.network.name}-hub", names("netns"))   # ours is alive


if __name__ == "__main__":
    unittest.main()

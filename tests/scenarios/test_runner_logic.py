"""Unit tests of the scenario runner's logic: parsing and validation, the timeline, the
expectation checks and the consensus distance. No processes. Run:
    python3 -m unittest discover -s tests/scenarios -p 'test_*.py'
"""
import struct
import sys
import tempfile
import unittest
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from scenario import expectations, spec  # noqa: E402
from scenario.expectations import Outcome, PeerOutcome  # noqa: E402
from scenario.params import consensus_distance, read_params  # noqa: E402
from scenario.timeline import PeerView, Timeline, partition_sets  # noqa: E402

BASE = {"name": "t", "cluster": {"peers": 4}}


def doc(**extra):
    d = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
    d.update(extra)
    return d


class ParseTest(unittest.TestCase):
    def error(self, d, quick=False):
        with self.assertRaises(spec.SpecError) as ctx:
            spec.parse(d, quick)
        return str(ctx.exception)

    def test_shipped_scenarios_parse_in_both_forms(self):
        files = sorted((ROOT / "scenarios").glob("*.toml"))
        self.assertTrue(files)
        for path in files:
            for quick in (False, True):
                with self.subTest(path=path.name, quick=quick):
                    s = spec.load(path, quick)
                    self.assertEqual(s.name, path.stem)

    def test_cluster_keys_become_peer_flags(self):
        s = spec.parse(doc(cluster={"peers": 3, "epochs": 2, "rule": "push-sum",
                                    "limit-train": 100, "flags": ["--lr", "0.1"]}))
        args = s.cluster.peer_args()
        self.assertEqual(s.cluster.peers, 3)
        self.assertIn("--rule", args)
        self.assertEqual(args[args.index("--limit-train") + 1], "100")
        self.assertEqual(args[-2:], ["--lr", "0.1"])

    def test_quick_table_overrides(self):
        d = doc(expect={"min-accuracy": 0.8},
                quick={"cluster": {"epochs": 1}, "expect": {"min-accuracy": 0.5}})
        self.assertEqual(spec.parse(d).expect.min_accuracy, 0.8)
        q = spec.parse(d, quick=True)
        self.assertEqual(q.expect.min_accuracy, 0.5)
        self.assertEqual(q.cluster.epochs, 1)
        self.assertEqual(q.cluster.peers, 4)

    def test_unknown_key_is_named(self):
        msg = self.error(doc(cluster={"peers": 4, "epoch": 3}))
        self.assertIn("unknown key 'epoch'", msg)
        self.assertIn("epochs", msg)   # the valid keys are listed

    def test_wrong_type_names_key(self):
        self.assertIn("cluster.peers = '4'", self.error(doc(cluster={"peers": "4"})))

    def test_event_errors_name_the_event_and_key(self):
        msg = self.error(doc(event=[{"do": "drop", "at": 1, "p": 1.5}]))
        self.assertIn("event[0].p = 1.5", msg)
        self.assertIn("[0, 1]", msg)
        self.assertIn("event[0].do = 'explode'", self.error(doc(event=[{"do": "explode",
                                                                         "at": 1}])))
        self.assertIn("exactly one of 'at'", self.error(doc(event=[{"do": "heal"}])))
        self.assertIn("rank 7 is not a peer", self.error(doc(event=[
            {"do": "kill", "at": 1, "peers": [7]}])))
        self.assertIn("'peers' is required", self.error(doc(event=[{"do": "kill", "at": 1}])))
        self.assertIn("a rank is in two groups", self.error(doc(event=[
            {"do": "partition", "at": 1, "groups": [[0, 1], [1, 2]]}])))
        self.assertIn("'factor' is required", self.error(doc(event=[{"do": "slow", "at": 1}])))

    def test_byzantine_mode_is_checked(self):
        self.assertIn("event[0].mode = 'evil'", self.error(doc(event=[
            {"do": "byzantine", "at": 1, "peers": [1], "mode": "evil"}])))

    def test_link_actions_need_netns(self):
        msg = self.error(doc(event=[{"do": "bandwidth", "at": 0, "mbit": 10}]))
        self.assertIn("event[0] (bandwidth)", msg)
        self.assertIn('cluster.network = "netns"', msg)
        s = spec.parse(doc(cluster={"peers": 2, "network": "netns"},
                           event=[{"do": "loss", "at": 0, "p": 0.1}]))
        self.assertEqual(s.cluster.transport, "tcp")   # namespaces talk over veth
        self.assertEqual(s.events[0].peers, "all")
        self.assertIn("valid: \"tcp\"", self.error(doc(cluster={
            "peers": 2, "network": "netns", "transport": "ipc"})))
        self.assertIn("event[0].mbit = -1.0", self.error(doc(
            cluster={"peers": 2, "network": "netns"},
            event=[{"do": "bandwidth", "at": 0, "mbit": -1}])))

    def test_fail_replica_needs_that_replica(self):
        event = [{"do": "fail-replica", "at": 1, "peers": [1], "replica": 1}]
        msg = self.error(doc(event=event))
        self.assertIn("event[0] (fail-replica): replica 1 does not exist: the peers have 1", msg)
        s = spec.parse(doc(cluster={"peers": 2, "flags": ["--local-replicas", "2"]},
                           event=event))
        self.assertEqual(s.cluster.local_replicas(), 2)
        self.assertEqual(s.events[0].params["replica"], 1)
        self.assertIn("event[0].replica", self.error(doc(event=[
            {"do": "fail-replica", "at": 1, "peers": [1], "replica": -1}])))
        self.assertIn("'peers' is required", self.error(doc(
            cluster={"peers": 2, "flags": ["--local-replicas=2"]},
            event=[{"do": "fail-replica", "at": 1, "replica": 0}])))

    def test_expect_ranges(self):
        self.assertIn("expect.min-accuracy = 1.5",
                      self.error(doc(expect={"min-accuracy": 1.5})))

    def test_bad_toml_names_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write("name = \n")
        with self.assertRaises(spec.SpecError) as ctx:
            spec.load(f.name)
        self.assertIn(f.name, str(ctx.exception))
        self.assertIn("not valid TOML", str(ctx.exception))


def steps(step, world=4):
    return {r: step for r in range(world)}


def events(*tables, world=4):
    return spec.parse(doc(cluster={"peers": world}, event=list(tables))).events


class TimelineTest(unittest.TestCase):
    def view(self, world=4):
        return PeerView(running=set(range(world)))

    def test_events_fire_in_order_on_their_triggers(self):
        t = Timeline(events({"do": "kill", "step": 10, "peers": [2]},
                            {"do": "restart", "after": 3, "peers": [2]},
                            {"do": "drop", "at": 1, "p": 0.1}), 4, 1)
        v = self.view()
        self.assertEqual(t.due(5.0, steps(9), v), [])
        fired = t.due(5.0, steps(10), v)
        self.assertEqual([(f.event.action, f.targets) for f in fired], [("kill", [2])])
        self.assertEqual(v.killed, {2})
        self.assertEqual(t.due(7.9, steps(12), v), [])
        fired = t.due(8.0, steps(12), v)
        # The restart fires after 3 s; the drop (t >= 1 long passed) right behind it.
        self.assertEqual([f.event.action for f in fired], ["restart", "drop"])
        self.assertEqual(fired[1].targets, [0, 1, 2, 3])
        self.assertTrue(t.done())

    def test_step_trigger_waits_for_named_peers_only(self):
        t = Timeline(events({"do": "pause", "step": 10, "peers": [1]},
                            {"do": "resume", "step": 10, "peers": "all"}), 4, 1)
        v = self.view()
        fired = t.due(0.0, {0: 3, 1: 10, 2: 50, 3: 50}, v)   # peer 0 is a straggler
        self.assertEqual([f.event.action for f in fired], ["pause"])
        self.assertEqual(t.due(0.0, {0: 9, 2: 50, 3: 50}, v), [])   # all: the slowest counts
        self.assertEqual(len(t.due(0.0, {0: 10, 2: 50, 3: 50}, v)), 1)

    def test_random_targets_are_seeded_and_eligible(self):
        def pick(seed):
            t = Timeline(events({"do": "kill", "at": 0, "peers": "random", "count": 2}), 4, seed)
            v = self.view()
            v.running.discard(0)
            v.killed.add(0)
            return t.due(0.0, steps(0), v)[0].targets
        self.assertEqual(pick(5), pick(5))
        for seed in range(20):
            targets = pick(seed)
            self.assertEqual(len(targets), 2)
            self.assertNotIn(0, targets)   # already dead

    def test_action_on_ineligible_peer_is_reported(self):
        t = Timeline(events({"do": "restart", "at": 0, "peers": [1]}), 4, 1)
        firing = t.due(0.0, steps(0), self.view())[0]
        self.assertEqual(firing.targets, [])
        self.assertIn("not in a state to restart", firing.skipped)

    def test_churn_kills_and_restarts_keeping_min_live(self):
        t = Timeline(events({"do": "churn", "at": 0, "every": 1.0, "for": 20, "downtime": 2.5,
                             "min-live": 3}), 4, 7)
        v = self.view()
        kills = restarts = 0
        now = 0.0
        while now < 40:
            for f in t.due(now, steps(0), v):
                kills += f.event.action == "kill" and bool(f.targets)
                restarts += f.event.action == "restart"
            self.assertGreaterEqual(len(v.running), 3)
            now += 0.1
        self.assertGreater(kills, 3)
        self.assertEqual(kills, restarts)   # every victim came back
        self.assertEqual(v.running, {0, 1, 2, 3})
        self.assertTrue(t.done())

    def test_partition_sets(self):
        cut = partition_sets([[0, 1]], 4)
        self.assertEqual(cut[0], [2, 3])
        self.assertEqual(cut[2], [0, 1])   # the ranks in no group are together
        self.assertEqual(partition_sets([[0], [1], [2, 3]], 4)[3], [0, 1])


class ExpectationsTest(unittest.TestCase):
    def outcome(self, **kw):
        peers = [PeerOutcome(rank=r, finished=True, final_accuracy=0.8, final_step=100,
                             total_steps=100, max_stall=1.0) for r in range(3)]
        return Outcome(peers=peers, consensus_accuracy=0.81, consensus_distance=0.01, **kw)

    def run_checks(self, expect_table, outcome):
        e = spec.parse(doc(expect=expect_table)).expect
        return expectations.check(e, outcome)

    def failed(self, checks):
        return [c for c in checks if not c.ok]

    def test_all_hold(self):
        checks = self.run_checks({"min-accuracy": 0.75, "min-consensus-accuracy": 0.8,
                                  "max-consensus-distance": 0.02}, self.outcome())
        self.assertEqual(self.failed(checks), [])

    def test_low_accuracy_names_peer(self):
        o = self.outcome()
        o.peers[1].final_accuracy = 0.5
        [bad] = self.failed(self.run_checks({"min-accuracy": 0.75}, o))
        self.assertIn("peer 1: 0.5000 < 0.7500", bad.why)

    def test_killed_peer_is_not_a_survivor(self):
        o = self.outcome()
        o.peers[2] = PeerOutcome(rank=2, survivor=False)
        self.assertEqual(self.failed(self.run_checks({"min-accuracy": 0.75}, o)), [])
        [bad] = self.failed(self.run_checks({"min-survivors": 3}, o))
        self.assertEqual(bad.name, "survivors")

    def test_crash_stall_unfired_distance_rejected(self):
        o = self.outcome(unfired=["t=99s: heal"])
        o.peers[0].unexpected_exits = [1]
        o.peers[2].max_stall = 45.0
        bad = {c.name: c for c in self.failed(self.run_checks(
            {"max-consensus-distance": 0.001, "bad-messages-rejected": True}, o))}
        self.assertEqual(set(bad), {"unexpected crashes", "no stalled peer", "every event fired",
                                    "consensus distance", "bad messages rejected"})
        self.assertIn("peer 0 exited with 1", bad["unexpected crashes"].why)
        self.assertIn("peer 2 made no step for 45.0 s", bad["no stalled peer"].why)

    def test_lies_rejected(self):
        o = self.outcome(lies=12, outliers=9)
        self.assertEqual(self.failed(self.run_checks({"lies-rejected": True}, o)), [])
        o.outliers = 0
        [bad] = self.failed(self.run_checks({"lies-rejected": True}, o))
        self.assertIn("no peer rejected implausible parameters", bad.why)

    def test_bad_messages_rejected(self):
        o = self.outcome(corrupted=5, rejected=7, rejected_reasons=["bad_checksum"])
        self.assertEqual(self.failed(self.run_checks({"bad-messages-rejected": True}, o)), [])
        o.rejected = 0
        [bad] = self.failed(self.run_checks({"bad-messages-rejected": True}, o))
        self.assertIn("5 messages were corrupted and no receiver rejected one", bad.why)
        o.rejected, o.rejected_reasons = 3, ["bad_dtype"]
        [bad] = self.failed(self.run_checks({"bad-messages-rejected": True}, o))
        self.assertIn("bad_checksum", bad.why)

    def test_unfinished_survivor_fails(self):
        o = self.outcome(timed_out=True)
        o.peers[0].finished = False
        bad = {c.name for c in self.failed(self.run_checks({}, o))}
        self.assertEqual(bad, {"no timeout", "every survivor finished"})


class ParamsTest(unittest.TestCase):
    def write(self, path, values):
        spec_bytes = b"2-2"
        body = (b"RUMORPRM" + struct.pack("<II", 1, len(spec_bytes)) + spec_bytes +
                struct.pack("<Q", len(values)) + array("f", values).tobytes())
        path.write_bytes(body + struct.pack("<Q", 0))

    def test_read_and_distance(self):
        with tempfile.TemporaryDirectory() as d:
            a, b = Path(d) / "a.bin", Path(d) / "b.bin"
            self.write(a, [1.0, 1.0])
            self.write(b, [3.0, 3.0])
            model, va = read_params(a)
            self.assertEqual(model, "2-2")
            self.assertEqual(list(va), [1.0, 1.0])
            worst, mean = consensus_distance([va, read_params(b)[1]])
            self.assertAlmostEqual(worst, 0.5)   # |(1,1)-(2,2)| / |(2,2)|
            self.assertAlmostEqual(mean, 0.5)
            (Path(d) / "c.bin").write_bytes(b"nope")
            with self.assertRaises(ValueError):
                read_params(Path(d) / "c.bin")


if __name__ == "__main__":
    unittest.main()

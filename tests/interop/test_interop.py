#!/usr/bin/python3
"""test_interop.py - the public API seen from another gRPC implementation.

Generates Python stubs from proto/strata/v1/*.proto with grpc_tools.protoc (into --out),
starts a 3-node cluster of the built stratad on 127.0.0.1, and drives DOMAIN.md's worked
example through the generated stubs: create community -> import roll -> vote -> ballots ->
close -> publish -> result, asserting the example's numbers on every node, a follower's
UNAVAILABLE with `strata-leader`, and the documented error codes NOT_FOUND,
FAILED_PRECONDITION, INVALID_ARGUMENT and ALREADY_EXISTS.

Run with Debian's /usr/bin/python3 (python3-grpcio, python3-grpc-tools): the python3 on
PATH may be another interpreter without them. ctest runs it from tests/cluster.
"""
import argparse
import atexit
import csv
import ctypes
import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import grpc
from grpc_tools import protoc

PR_SET_PDEATHSIG = 1
procs = {}


def kill_all():
    for p in procs.values():
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(kill_all)
for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, lambda s, f: sys.exit(1))


def die_with_parent():
    """In the child: SIGKILL when this test process dies, however it dies."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def generate_stubs(proto_dir, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    files = sorted(
        os.path.join("strata", "v1", f)
        for f in os.listdir(os.path.join(proto_dir, "strata", "v1"))
        if f.endswith(".proto")
    )
    rc = protoc.main(["grpc_tools.protoc", "-I" + proto_dir, "--python_out=" + out_dir,
                      "--grpc_python_out=" + out_dir] + files)
    assert rc == 0, "protoc failed"
    sys.path.insert(0, out_dir)
    mods = {}
    for name in ("common", "registry", "voting", "audit", "cluster"):
        mods[name] = importlib.import_module("strata.v1.%s_pb2" % name)
        mods[name + "_grpc"] = importlib.import_module("strata.v1.%s_pb2_grpc" % name)
    return mods


class Cluster:
    def __init__(self, stratad, n=3):
        self.stratad = stratad
        self.n = n
        # Below the ephemeral port range, apart from the C cluster tests' range (12000+).
        self.base = 10000 + (os.getpid() % 200) * 10
        self.dir = tempfile.mkdtemp(prefix="strata-interop-")
        self.channels = {}

    def grpc_addr(self, i):
        return "127.0.0.1:%d" % (self.base + i)

    def raft_addr(self, i):
        return "127.0.0.1:%d" % (self.base + 5 + i)

    def start(self, i):
        d = os.path.join(self.dir, "node%d" % i)
        os.makedirs(d, exist_ok=True)
        args = [self.stratad, "--id=%d" % i, "--data-dir=" + os.path.join(d, "data"),
                "--grpc-listen=" + self.grpc_addr(i), "--raft-listen=" + self.raft_addr(i),
                "--log=" + os.path.join(d, "stratad.log"), "--lmdb-map-size=64M"]
        for p in range(1, self.n + 1):
            args.append("--peer=%d=%s,%s" % (p, self.raft_addr(p), self.grpc_addr(p)))
        err = open(os.path.join(d, "stderr.log"), "ab")
        procs[i] = subprocess.Popen(args, stdout=err, stderr=err, preexec_fn=die_with_parent)
        deadline = time.time() + 15
        while True:
            assert procs[i].poll() is None, "node %d exited at start" % i
            try:
                socket.create_connection(("127.0.0.1", self.base + i), timeout=0.2).close()
                return
            except OSError:
                assert time.time() < deadline, "node %d does not listen" % i
                time.sleep(0.02)

    def stop_all(self):
        for i, p in procs.items():
            p.send_signal(signal.SIGTERM)
        for i, p in procs.items():
            assert p.wait(timeout=20) == 0, "node %d did not stop cleanly" % i
        procs.clear()

    def channel(self, i):
        if i not in self.channels:
            self.channels[i] = grpc.insecure_channel(
                self.grpc_addr(i),
                options=[("grpc.dns_min_time_between_resolutions_ms", 100),
                         ("grpc.initial_reconnect_backoff_ms", 100),
                         ("grpc.max_reconnect_backoff_ms", 300),
                         ("grpc.max_receive_message_length", 64 << 20),
                         ("grpc.max_send_message_length", 64 << 20)])
        return self.channels[i]

    def node_of(self, addr):
        for i in range(1, self.n + 1):
            if self.grpc_addr(i) == addr:
                return i
        return 0


def leader_hint(err):
    for k, v in err.trailing_metadata() or ():
        if k == "strata-leader":
            return v
    return ""


class Client:
    """Calls the leader: follows `strata-leader`, retries UNAVAILABLE with the same request."""

    def __init__(self, cluster, m):
        self.c = cluster
        self.m = m
        self.leader = 1

    def stub(self, service, i):
        return getattr(self.m[service.lower() + "_grpc"], service + "Stub")(self.c.channel(i))

    def call(self, service, method, request, total=30.0):
        deadline = time.time() + total
        while True:
            try:
                resp = getattr(self.stub(service, self.leader), method)(request, timeout=5)
                return resp
            except grpc.RpcError as e:
                if e.code() not in (grpc.StatusCode.UNAVAILABLE,
                                    grpc.StatusCode.DEADLINE_EXCEEDED) or time.time() > deadline:
                    raise
                hinted = self.c.node_of(leader_hint(e))
                if hinted and hinted != self.leader:
                    self.leader = hinted
                    continue
                if not hinted:
                    self.leader = self.leader % self.c.n + 1
                time.sleep(0.05)

    def expect(self, code, service, method, request, node=None):
        try:
            if node is None:
                self.call(service, method, request)
            else:
                getattr(self.stub(service, node), method)(request, timeout=5)
        except grpc.RpcError as e:
            assert e.code() == code, "%s: expected %s, got %s: %s" % (method, code, e.code(),
                                                                      e.details())
            print("  %s -> %s: %s" % (method, e.code().name, e.details()))
            return e
        raise AssertionError("%s: expected %s, got OK" % (method, code))


def rid():
    return os.urandom(16)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stratad", required=True)
    ap.add_argument("--proto", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", required=True)
    a = ap.parse_args()

    m = generate_stubs(a.proto, a.out)
    C, R, V, A, K = m["common"], m["registry"], m["voting"], m["audit"], m["cluster"]
    cluster = Cluster(a.stratad)
    ok = False
    try:
        for i in range(1, 4):
            cluster.start(i)
        cl = Client(cluster, m)

        # A ready leader, as every node sees it.
        deadline = time.time() + 15
        leader = 0
        while not leader:
            assert time.time() < deadline, "no leader"
            for i in range(1, 4):
                try:
                    s = cl.stub("Cluster", i).Status(K.StatusRequest(), timeout=1)
                    if s.state == "leader" and s.ready:
                        leader = i
                except grpc.RpcError:
                    pass
            time.sleep(0.05)
        cl.leader = leader
        print("leader: node %d" % leader)

        # A follower refuses a write and names the leader.
        follower = leader % 3 + 1
        e = cl.expect(grpc.StatusCode.UNAVAILABLE, "Registry", "CreateCommunity",
                      R.CreateCommunityRequest(request_id=rid(), name="x", street="y"),
                      node=follower)
        assert leader_hint(e) == cluster.grpc_addr(leader), leader_hint(e)

        com = cl.call("Registry", "CreateCommunity", R.CreateCommunityRequest(
            request_id=rid(), name="阳光花园", street="某街道", min_notice_days=0)).community_id
        units = []
        with open(os.path.join(a.data, "example-roll.csv"), encoding="utf-8") as f:
            for row in csv.DictReader(f):
                units.append(C.Unit(
                    unit=row["unit"], building=row["building"],
                    area_centi_m2=int(row["area_centi_m2"]), owner_id=row["owner_id"],
                    owner_name=row["owner_name"],
                    status=C.UNIT_OWNED if row["status"] == "owned" else C.UNIT_DEVELOPER_UNSOLD))
        roll = cl.call("Registry", "ImportRoll",
                       R.ImportRollRequest(request_id=rid(), community_id=com, units=units))
        assert (roll.unit_count, roll.total_area, roll.total_owners) == (12, 134450, 10), roll

        vote = cl.call("Voting", "CreateVote", V.CreateVoteRequest(
            request_id=rid(), community_id=com, matter=4, title="选聘物业服务企业",
            notice_days=0)).vote_id
        for step, state in (("NoticeVote", C.VOTE_NOTICED), ("OpenVote", C.VOTE_OPEN)):
            assert cl.call("Voting", step, V.VoteStepRequest(
                request_id=rid(), vote_id=vote)).state == state
        choices = {"agree": C.CHOICE_AGREE, "disagree": C.CHOICE_DISAGREE,
                   "abstain": C.CHOICE_ABSTAIN}
        with open(os.path.join(a.data, "example-ballots.csv"), encoding="utf-8") as f:
            for n, row in enumerate(csv.DictReader(f), 1):
                r = cl.call("Voting", "CastBallot", V.CastBallotRequest(
                    request_id=rid(), vote_id=vote, owner_id=row["owner_id"],
                    choice=choices[row["choice"]], source=C.BALLOT_ONLINE))
                assert r.seq == n
        for step, state in (("CloseVote", C.VOTE_CLOSED), ("PublishVote", C.VOTE_PUBLISHED)):
            assert cl.call("Voting", step, V.VoteStepRequest(
                request_id=rid(), vote_id=vote)).state == state

        def check(v):
            t = v.tally
            assert v.state == C.VOTE_PUBLISHED and v.threshold == C.THRESHOLD_ORDINARY
            assert (t.total_area, t.total_owners) == (134450, 10), t
            assert (t.part_area, t.part_owners) == (128950, 9), t
            assert (t.agree_area, t.agree_owners) == (84715, 6), t
            assert t.quorum and t.passed, t

        check(cl.call("Voting", "GetVote", V.GetVoteRequest(vote_id=vote)))
        commit = cl.stub("Cluster", cl.leader).Status(K.StatusRequest(), timeout=2).commit_index
        for i in range(1, 4):
            deadline = time.time() + 10
            while cl.stub("Cluster", i).Status(K.StatusRequest(), timeout=2).applied_index < commit:
                assert time.time() < deadline
                time.sleep(0.05)
            check(cl.stub("Voting", i).GetVote(V.GetVoteRequest(vote_id=vote, allow_stale=True),
                                               timeout=5))
        print("every node: part 128950/9, agree 84715/6, passes")

        exported = list(cl.stub("Audit", cl.leader).ExportBallots(
            A.ExportBallotsRequest(vote_id=vote), timeout=10))
        assert [b.seq for b in exported] == list(range(1, 10))
        assert all(b.current for b in exported)
        masked = cl.call("Registry", "ListUnits", R.ListUnitsRequest(community_id=com))
        assert masked.units[0].owner_name == "王**", masked.units[0].owner_name

        # Error codes.
        cl.expect(grpc.StatusCode.NOT_FOUND, "Voting", "GetVote", V.GetVoteRequest(vote_id=999))
        cl.expect(grpc.StatusCode.FAILED_PRECONDITION, "Voting", "CastBallot",
                  V.CastBallotRequest(request_id=rid(), vote_id=vote, owner_id="O8",
                                      choice=C.CHOICE_AGREE, source=C.BALLOT_ONLINE))
        cl.expect(grpc.StatusCode.INVALID_ARGUMENT, "Voting", "CastBallot",
                  V.CastBallotRequest(request_id=b"short", vote_id=vote, owner_id="O8",
                                      choice=C.CHOICE_AGREE, source=C.BALLOT_ONLINE))
        cl.expect(grpc.StatusCode.INVALID_ARGUMENT, "Voting", "CreateVote",
                  V.CreateVoteRequest(request_id=rid(), community_id=com, matter=10, title="x"))
        cl.expect(grpc.StatusCode.ALREADY_EXISTS, "Registry", "CreateCommunity",
                  R.CreateCommunityRequest(request_id=rid(), name="阳光花园", street="某街道"))
        cl.expect(grpc.StatusCode.NOT_FOUND, "Registry", "GetCommunity",
                  R.GetCommunityRequest(community_id=42))

        cluster.stop_all()
        ok = True
        print("ok")
    finally:
        kill_all()
        if ok:
            shutil.rmtree(cluster.dir, ignore_errors=True)
        else:
            if not os.environ.get("STRATA_TEST_KEEP"):
                for i in range(1, 4):  # the logs stay; the Raft segments are 16 MiB a node
                    shutil.rmtree(os.path.join(cluster.dir, "node%d" % i, "data"),
                                  ignore_errors=True)
            print("interop test failed; node logs kept in %s" % cluster.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())

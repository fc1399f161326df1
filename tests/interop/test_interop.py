#!/usr/bin/python3
"""test_interop.py - the public API seen from another gRPC implementation and another
implementation of the byte formats.

Generates Python stubs from proto/strata/v1/*.proto with grpc_tools.protoc (into --out),
starts a 3-node cluster of the built stratad on 127.0.0.1, and drives DOMAIN.md's worked
example with real keys: Genesis by an operator key, every node's key registered, a
supervisor creates the community and appoints an organiser, who imports the roll, runs the
vote and issues enrollment codes; owners' keys redeem them and cast signed ballots (one on
paper, entered by the organiser); the supervisor certifies the result. Everything signed
here is built in Python from docs/FORMATS.md and docs/ROLES.md alone (key ids, the request
envelope, ballots, records, enrollment bytes and code keys), with the `cryptography`
package's Ed25519 rather than libsodium when it is installed, and every receipt, tree head and inclusion proof
is verified in Python (RFC 9162 §2.1.3.2). Asserts the example's numbers on every node, a
follower's UNAVAILABLE with `strata-leader`, UNAUTHENTICATED for unsigned, replayed and
stale requests, PERMISSION_DENIED, and the documented error codes NOT_FOUND,
FAILED_PRECONDITION, INVALID_ARGUMENT and ALREADY_EXISTS.

Run with Debian's /usr/bin/python3 (python3-grpcio, python3-grpc-tools; python3-cryptography
if installed, else libsodium through ctypes): the python3 on PATH may be another interpreter
without them. ctest runs it from tests/cluster.
"""
import argparse
import atexit
import csv
import ctypes
import hashlib
import importlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import grpc
from grpc_tools import protoc

try:  # python3-cryptography: an Ed25519 independent of the server's libsodium
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                                   Ed25519PublicKey)
    SODIUM = None
    if os.environ.get("STRATA_INTEROP_SODIUM"):
        raise ImportError("libsodium asked for")
except ImportError:  # else libsodium itself, through ctypes
    SODIUM = ctypes.CDLL("libsodium.so.23")
    assert SODIUM.sodium_init() >= 0

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
    for name in ("common", "registry", "voting", "audit", "cluster", "keys"):
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
                "--log=" + os.path.join(d, "stratad.log"), "--lmdb-map-size=64M",
                "--grpc-plaintext"]  # loopback only: the channels below are insecure
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


# ---- docs/FORMATS.md, in Python ----------------------------------------------------------

def u8(v):
    return struct.pack(">B", v)


def u16(v):
    return struct.pack(">H", v)


def u64(v):
    return struct.pack(">Q", v)


def str16(b):
    if isinstance(b, str):
        b = b.encode()
    return u16(len(b)) + b


def sha256(b):
    return hashlib.sha256(b).digest()


def now_ms():
    return int(time.time() * 1000)


class Key:
    """An Ed25519 key; its id is the first 16 bytes of SHA-256("strata-key-id-v1" || pk)."""

    def __init__(self, seed=None):
        self.seed = seed if seed is not None else os.urandom(32)
        if SODIUM is None:
            self.sk = Ed25519PrivateKey.from_private_bytes(self.seed)
            self.pk = self.sk.public_key().public_bytes(serialization.Encoding.Raw,
                                                        serialization.PublicFormat.Raw)
        else:
            pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(64)
            assert SODIUM.crypto_sign_seed_keypair(pk, sk, self.seed) == 0
            self.sk, self.pk = sk.raw, pk.raw
        self.id = sha256(b"strata-key-id-v1" + self.pk)[:16]

    def sign(self, domain, msg):
        m = domain + b"\x00" + msg
        if SODIUM is None:
            return self.sk.sign(m)
        sig = ctypes.create_string_buffer(64)
        assert SODIUM.crypto_sign_detached(sig, None, m, ctypes.c_ulonglong(len(m)),
                                           self.sk) == 0
        return sig.raw


def verify(pk, sig, domain, msg):
    m = domain + b"\x00" + msg
    if SODIUM is not None:
        return SODIUM.crypto_sign_verify_detached(sig, m, ctypes.c_ulonglong(len(m)), pk) == 0
    try:
        Ed25519PublicKey.from_public_bytes(pk).verify(sig, m)
        return True
    except InvalidSignature:
        return False


def envelope(key, method, body, skew_ms=0):
    """§8: the signed request envelope over the method and the exact message bytes."""
    tbs = (u8(1) + str16(method) + key.id + u64(now_ms() + skew_ms) + os.urandom(16) +
           sha256(body))
    return tbs + key.sign(b"strata-request-v1", tbs)


def ballot_bytes(community, vote, owner, choice, nonce, cast_ms, key_id):
    """§4: a choice ballot."""
    return (u8(1) + u64(community) + u64(vote) + str16(owner) + u8(1) + u8(choice) + nonce +
            u64(cast_ms) + key_id)


def record_bytes(ballot, pk, sig, scan=None):
    """§5: the signed ballot record (no proxy)."""
    rec = u8(1) + str16(ballot) + pk + sig
    rec += (u8(2) + scan) if scan is not None else u8(1)
    return rec + u8(0)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def verify_inclusion(leaf_hash, index, size, proof, root):
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def parse_sth(b):
    """§6: (vote_id, tree_size, root, timestamp_ms, node_id, signature)."""
    assert len(b) == 129 and b[0] == 1, b.hex()
    vote, size = struct.unpack(">QQ", b[1:17])
    ts, node = struct.unpack(">QQ", b[49:65])
    return {"vote": vote, "size": size, "root": b[17:49], "ts": ts, "node": node,
            "tbs": b[:65], "sig": b[65:]}


def check_sth(sth, keys):
    assert sth["node"] in keys, "tree head by node %d, which has no registered key" % sth["node"]
    assert verify(keys[sth["node"]], sth["sig"], b"strata-sth-v1", sth["tbs"]), "bad tree head"


def check_receipt(receipt, keys, record):
    """§7: the tree head's and the receipt's signatures by a registered node key, the leaf
    hash of our own record, the index inside the tree. Returns (leaf index, tree head)."""
    assert len(receipt) == 234 and receipt[0] == 1, len(receipt)
    leaf_hash = receipt[1:33]
    (index,) = struct.unpack(">Q", receipt[33:41])
    sth = parse_sth(receipt[41:170])
    check_sth(sth, keys)
    assert verify(keys[sth["node"]], receipt[170:], b"strata-receipt-v1", receipt[:170])
    assert leaf_hash == sha256(b"\x00" + record), "the receipt is for another record"
    assert index < sth["size"]
    return index, leaf_hash, sth


# ---- calls -----------------------------------------------------------------------------

def leader_hint(err):
    for k, v in err.trailing_metadata() or ():
        if k == "strata-leader":
            return v
    return ""


class Client:
    """Calls the leader: follows `strata-leader`, retries UNAVAILABLE with the same request
    (the same bytes, so the same request_id), signing every attempt afresh."""

    def __init__(self, cluster, m):
        self.c = cluster
        self.m = m
        self.leader = 1

    def stub(self, service, i):
        return getattr(self.m[service.lower() + "_grpc"], service + "Stub")(self.c.channel(i))

    def raw(self, node, service, method, request, key=None, env=None, timeout=5):
        """One call with the request's exact bytes, signed by key (or with env as given)."""
        path = "/strata.v1.%s/%s" % (service, method)
        body = request.SerializeToString()
        call = self.c.channel(node).unary_unary(path, request_serializer=lambda b: b,
                                                response_deserializer=lambda b: b)
        md = []
        if env is None and key is not None:
            env = envelope(key, path, body)
        if env is not None:
            md.append(("strata-auth-bin", env))
        return call(body, metadata=md, timeout=timeout)

    def call(self, service, method, request, key=None, reply=None, total=30.0):
        deadline = time.time() + total
        while True:
            try:
                raw = self.raw(self.leader, service, method, request, key)
                return reply.FromString(raw) if reply is not None else raw
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

    def leader_commit(self, R, K):
        """The leader's commit index, covering every write acknowledged before: a
        linearizable read first (its barrier is applied after them), then Status."""
        try:
            self.call("Registry", "GetCommunity", R.GetCommunityRequest(community_id=2**64 - 1))
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.NOT_FOUND, e
        return self.stub("Cluster", self.leader).Status(K.StatusRequest(), timeout=2).commit_index

    def expect(self, code, service, method, request, key=None, node=None, env=None, text=None):
        try:
            if node is None and env is None:
                self.call(service, method, request, key)
            else:
                self.raw(node or self.leader, service, method, request, key, env)
        except grpc.RpcError as e:
            assert e.code() == code, "%s: expected %s, got %s: %s" % (method, code, e.code(),
                                                                      e.details())
            assert text is None or text in e.details(), e.details()
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
    C, R, V, A, K, KS = (m["common"], m["registry"], m["voting"], m["audit"], m["cluster"],
                         m["keys"])
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

        # Unsigned writes are refused; a follower refuses a write and names the leader.
        op, sup, org = Key(), Key(), Key()
        cl.expect(grpc.StatusCode.UNAUTHENTICATED, "Registry", "CreateCommunity",
                  R.CreateCommunityRequest(request_id=rid(), name="x", street="y"),
                  text="must be signed")
        follower = leader % 3 + 1
        e = cl.expect(grpc.StatusCode.UNAVAILABLE, "Registry", "CreateCommunity",
                      R.CreateCommunityRequest(request_id=rid(), name="x", street="y"),
                      key=sup, node=follower)
        assert leader_hint(e) == cluster.grpc_addr(leader), leader_hint(e)

        # Genesis, signed by the operator key it installs; every node's key in the roster.
        g = cl.call("Keys", "Genesis", KS.GenesisRequest(
            request_id=rid(), operator_public_key=op.pk, supervisor_public_key=sup.pk,
            operator_label="operator", supervisor_label="某街道办事处"), key=op,
            reply=KS.KeyResponse)
        assert g.key_id == op.id, g
        for i in range(1, 4):
            s = cl.stub("Cluster", i).Status(K.StatusRequest(), timeout=2)
            assert len(s.node_public_key) == 32
            cl.call("Cluster", "RegisterNode", K.RegisterNodeRequest(
                request_id=rid(), id=i, raft=cluster.raft_addr(i), grpc=cluster.grpc_addr(i),
                public_key=s.node_public_key), key=op)
        commit = cl.leader_commit(R, K)
        node_keys = {}
        for i in range(1, 4):
            deadline = time.time() + 10
            while True:
                s = cl.stub("Cluster", i).Status(K.StatusRequest(), timeout=2)
                if s.applied_index >= commit:
                    break
                assert time.time() < deadline
                time.sleep(0.05)
            node_keys[i] = s.node_public_key
        s = cl.stub("Cluster", follower).Status(K.StatusRequest(), timeout=2)
        assert {mb.id: mb.public_key for mb in s.members} == node_keys, s
        print("genesis done; nodes registered with their keys")

        # The supervisor's community and organiser; the organiser's roll and vote.
        com = cl.call("Registry", "CreateCommunity", R.CreateCommunityRequest(
            request_id=rid(), name="阳光花园", street="某街道", min_notice_days=0), key=sup,
            reply=R.CreateCommunityResponse).community_id
        cl.call("Keys", "AppointOrganiser", KS.AppointOrganiserRequest(
            request_id=rid(), community_id=com, public_key=org.pk, label="业主委员会"), key=sup)
        units = []
        with open(os.path.join(a.data, "example-roll.csv"), encoding="utf-8") as f:
            for row in csv.DictReader(f):
                units.append(C.Unit(
                    unit=row["unit"], building=row["building"],
                    area_centi_m2=int(row["area_centi_m2"]), owner_id=row["owner_id"],
                    owner_name=row["owner_name"],
                    status=C.UNIT_OWNED if row["status"] == "owned" else C.UNIT_DEVELOPER_UNSOLD))
        roll = cl.call("Registry", "ImportRoll",
                       R.ImportRollRequest(request_id=rid(), community_id=com, units=units),
                       key=org, reply=R.ImportRollResponse)
        assert (roll.unit_count, roll.total_area, roll.total_owners) == (12, 134450, 10), roll

        create = V.CreateVoteRequest(request_id=rid(), community_id=com, matter=4,
                                     title="选聘物业服务企业", notice_days=0)
        path = "/strata.v1.Voting/CreateVote"
        # Signed ten minutes ago: refused. Signed now: accepted; the same again: a replay.
        cl.expect(grpc.StatusCode.UNAUTHENTICATED, "Voting", "CreateVote", create,
                  env=envelope(org, path, create.SerializeToString(), -600000),
                  text="10 minutes ago")
        env = envelope(org, path, create.SerializeToString())
        vote = V.CreateVoteResponse.FromString(
            cl.raw(cl.leader, "Voting", "CreateVote", create, env=env)).vote_id
        cl.expect(grpc.StatusCode.UNAUTHENTICATED, "Voting", "CreateVote", create, env=env,
                  text="replayed")
        for step, state in (("NoticeVote", C.VOTE_NOTICED), ("OpenVote", C.VOTE_OPEN)):
            assert cl.call("Voting", step, V.VoteStepRequest(request_id=rid(), vote_id=vote),
                           key=org, reply=C.Vote).state == state

        # Enrollment: the organiser sends the code key's public half; the owner's device
        # derives the same key from the code and signs the enrollment bytes with both keys.
        owners = {}
        choices = {"agree": C.CHOICE_AGREE, "disagree": C.CHOICE_DISAGREE,
                   "abstain": C.CHOICE_ABSTAIN}
        with open(os.path.join(a.data, "example-ballots.csv"), encoding="utf-8") as f:
            example = [(row["owner_id"], choices[row["choice"]]) for row in csv.DictReader(f)]
        paper_owner = "O5"
        for owner, _ in example:
            if owner == paper_owner:
                continue
            code = os.urandom(10).hex().upper()
            seed = sha256(b"strata-enroll-code-seed-v1" + b"\x00" + u64(com) + str16(owner) +
                          code.encode())
            code_key = Key(seed)
            r = cl.call("Keys", "IssueEnrollment", KS.IssueEnrollmentRequest(
                request_id=rid(), community_id=com, owner_id=owner,
                code_public_key=code_key.pk), key=org, reply=KS.IssueEnrollmentResponse)
            assert r.expires_ms > now_ms()
            device = Key()
            signed_ms = now_ms()
            eb = (u8(1) + u64(com) + str16(owner) + device.pk + code_key.pk + u64(signed_ms))
            r = cl.call("Keys", "RedeemEnrollment", KS.RedeemEnrollmentRequest(
                request_id=rid(), community_id=com, owner_id=owner, public_key=device.pk,
                code_public_key=code_key.pk, signed_ms=signed_ms,
                signature=device.sign(b"strata-enroll-v1", eb),
                code_signature=Key(seed).sign(b"strata-enroll-code-v1", eb)),
                key=device, reply=KS.KeyResponse)
            assert r.key_id == device.id
            owners[owner] = device
        print("%d owners enrolled" % len(owners))
        cl.expect(grpc.StatusCode.PERMISSION_DENIED, "Voting", "CreateVote",
                  V.CreateVoteRequest(request_id=rid(), community_id=com, matter=4, title="x",
                                      notice_days=0), key=owners["O1"])

        # Signed ballots; O5's on paper, entered by the organiser. Every receipt verifies.
        scan = sha256(b"the scanned paper ballot of O5")
        records = []
        for n, (owner, choice) in enumerate(example, 1):
            signer = org if owner == paper_owner else owners[owner]
            nonce = os.urandom(16)
            bb = ballot_bytes(com, vote, owner, choice, nonce, now_ms(), signer.id)
            if owner == paper_owner:
                sig = signer.sign(b"strata-paper-ballot-v1", bb + scan)
                req = V.CastBallotRequest(
                    request_id=rid(), vote_id=vote, owner_id=owner, choice=choice,
                    source=C.BALLOT_PAPER, paper_scan_sha256=scan, nonce=nonce,
                    signed_ballot=bb, public_key=signer.pk, signature=sig)
                rec = record_bytes(bb, signer.pk, sig, scan)
            else:
                sig = signer.sign(b"strata-ballot-v1", bb)
                req = V.CastBallotRequest(
                    request_id=rid(), vote_id=vote, owner_id=owner, choice=choice,
                    source=C.BALLOT_ONLINE, nonce=nonce, signed_ballot=bb, public_key=signer.pk,
                    signature=sig)
                rec = record_bytes(bb, signer.pk, sig)
            r = cl.call("Voting", "CastBallot", req, key=signer, reply=V.CastBallotResponse)
            assert r.seq == n and r.leaf_index == n - 1 and r.tree_size >= n, r
            index, leaf_hash, sth = check_receipt(r.receipt, node_keys, rec)
            assert index == n - 1 and sth["vote"] == vote and sth["size"] == r.tree_size
            records.append((rec, leaf_hash, index, sth))
        print("%d receipts verify against the registered node keys" % len(records))

        # Inclusion proofs from a node that did not sign the receipt, checked in Python.
        commit = cl.leader_commit(R, K)
        for rec, leaf_hash, index, sth in records:
            other = sth["node"] % 3 + 1
            deadline = time.time() + 10
            while cl.stub("Cluster", other).Status(K.StatusRequest(),
                                                   timeout=2).applied_index < commit:
                assert time.time() < deadline
                time.sleep(0.05)
            p = cl.stub("Audit", other).GetInclusionProof(A.InclusionProofRequest(
                vote_id=vote, leaf_index=index, tree_size=sth["size"]), timeout=5)
            assert p.tree_size == sth["size"]
            assert verify_inclusion(leaf_hash, index, sth["size"], list(p.hashes), sth["root"])
        print("inclusion proofs from other nodes verify against the receipts' tree heads")

        for step, state in (("CloseVote", C.VOTE_CLOSED), ("PublishVote", C.VOTE_PUBLISHED)):
            assert cl.call("Voting", step, V.VoteStepRequest(request_id=rid(), vote_id=vote),
                           key=org, reply=C.Vote).state == state
        cl.expect(grpc.StatusCode.PERMISSION_DENIED, "Audit", "Certify",
                  A.CertifyRequest(request_id=rid(), vote_id=vote), key=org)
        certified = cl.call("Audit", "Certify", A.CertifyRequest(request_id=rid(), vote_id=vote),
                            key=sup, reply=C.Vote)
        assert len(certified.reviews) == 1 and certified.reviews[0].certified
        assert certified.reviews[0].key_id == sup.id

        def check(v):
            t = v.tally
            assert v.state == C.VOTE_PUBLISHED and v.threshold == C.THRESHOLD_ORDINARY
            assert (t.total_area, t.total_owners) == (134450, 10), t
            assert (t.part_area, t.part_owners) == (128950, 9), t
            assert (t.agree_area, t.agree_owners) == (84715, 6), t
            assert t.quorum and t.passed, t
            assert v.log_size == 9 and len(v.reviews) == 1

        check(cl.call("Voting", "GetVote", V.GetVoteRequest(vote_id=vote), reply=C.Vote))
        commit = cl.leader_commit(R, K)
        for i in range(1, 4):
            deadline = time.time() + 10
            while cl.stub("Cluster", i).Status(K.StatusRequest(), timeout=2).applied_index < commit:
                assert time.time() < deadline
                time.sleep(0.05)
            v = cl.stub("Voting", i).GetVote(V.GetVoteRequest(vote_id=vote, allow_stale=True),
                                             timeout=5)
            check(v)
            assert v.stale
            th = cl.stub("Audit", i).GetTreeHead(A.GetTreeHeadRequest(vote_id=vote), timeout=5)
            sth = parse_sth(th.sth)
            check_sth(sth, node_keys)
            assert sth["node"] == i and sth["size"] == 9 and sth["root"] == v.log_root
        print("every node: part 128950/9, agree 84715/6, passes, certified; its signed tree "
              "head verifies")

        exported = list(cl.stub("Audit", cl.leader).ExportBallots(
            A.ExportBallotsRequest(vote_id=vote), timeout=10))
        assert [b.seq for b in exported] == list(range(1, 10))
        assert all(b.current for b in exported)
        assert [b.record for b in exported] == [r[0] for r in records]
        assert [b.leaf_index for b in exported] == list(range(9))
        masked = R.ListUnitsResponse.FromString(
            cl.raw(cl.leader, "Registry", "ListUnits", R.ListUnitsRequest(community_id=com)))
        assert masked.units[0].owner_name == "王**", masked.units[0].owner_name
        full = R.ListUnitsResponse.FromString(
            cl.raw(cl.leader, "Registry", "ListUnits", R.ListUnitsRequest(community_id=com),
                   key=org))
        assert full.units[0].owner_name == "王建国", full.units[0].owner_name

        # Error codes.
        cl.expect(grpc.StatusCode.NOT_FOUND, "Voting", "GetVote", V.GetVoteRequest(vote_id=999))
        bb = ballot_bytes(com, vote, "O1", 1, os.urandom(16), now_ms(), owners["O1"].id)
        cl.expect(grpc.StatusCode.FAILED_PRECONDITION, "Voting", "CastBallot",
                  V.CastBallotRequest(request_id=rid(), vote_id=vote, owner_id="O1",
                                      choice=C.CHOICE_AGREE, source=C.BALLOT_ONLINE,
                                      signed_ballot=bb, public_key=owners["O1"].pk,
                                      signature=owners["O1"].sign(b"strata-ballot-v1", bb)),
                  key=owners["O1"])
        cl.expect(grpc.StatusCode.INVALID_ARGUMENT, "Voting", "CastBallot",
                  V.CastBallotRequest(request_id=b"short", vote_id=vote, owner_id="O8",
                                      choice=C.CHOICE_AGREE, source=C.BALLOT_ONLINE))
        cl.expect(grpc.StatusCode.INVALID_ARGUMENT, "Voting", "CreateVote",
                  V.CreateVoteRequest(request_id=rid(), community_id=com, matter=10, title="x"),
                  key=org)
        cl.expect(grpc.StatusCode.ALREADY_EXISTS, "Registry", "CreateCommunity",
                  R.CreateCommunityRequest(request_id=rid(), name="阳光花园", street="某街道"),
                  key=sup)
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

#!/usr/bin/env bash
# local-cluster.sh - a 3-node Strata cluster on this machine, for development and demos.
#
#   deploy/local-cluster.sh start    start the nodes (those not running), wait for a ready
#                                    leader, make the operator and supervisor keys (once),
#                                    send Keys.Genesis (once), register every node's key,
#                                    and print the lines to export
#   deploy/local-cluster.sh status   each node's pid and whether it runs, and the leader
#   deploy/local-cluster.sh stop     SIGTERM every node, SIGKILL after STOP_TIMEOUT seconds
#
# Node i (1..3) serves gRPC on 127.0.0.1:700i and Raft on 127.0.0.1:710i. Its config file,
# data, log and pid file live in $LOCAL_CLUSTER_DIR/node<i>/ (default ./var/local-cluster,
# relative to where you run the script): stratad.conf, data/ (with data/node.key, the node's
# tree-head signing key, made at its first start), stratad.log, stratad.pid.
#
# TLS: the gRPC API serves TLS. At the first start the script makes a throwaway CA and one
# node certificate for 127.0.0.1 and localhost (the three nodes share that address) with
# /usr/bin/openssl, in $LOCAL_CLUSTER_DIR/tls/ (ca.pem, ca.key, node.pem, node.key; keys
# mode 0600), and prints `export STRATA_CA=.../tls/ca.pem` for the strata CLI.
# LOCAL_CLUSTER_TLS=0 serves plaintext instead (grpc-plaintext = true: loopback only) and
# prints `export STRATA_PLAINTEXT=1`.
# The binary is $STRATAD, else `stratad` on PATH, else ./build/server/stratad.
#
# Keys: $LOCAL_CLUSTER_DIR/keys/operator.key and supervisor.key (plain key files, mode
# 0600: a development cluster), made with `strata keygen` ($STRATA, else `strata` on PATH,
# else ./build/client/strata). Genesis is signed by the operator key and installs both; every
# node is then registered (Cluster.RegisterNode with the key its Status reports) by the
# operator: `strata genesis` and `strata cluster register`. Without the CLI the same three
# steps run in Python (Debian's python3-grpcio and python3-cryptography), from the byte
# formats of docs/FORMATS.md.
# Data survives stop/start; `rm -rf ./var/local-cluster` starts afresh (keys included).
set -euo pipefail

N=3
DIR=${LOCAL_CLUSTER_DIR:-./var/local-cluster}
STOP_TIMEOUT=${STOP_TIMEOUT:-15}
ELECTION_MS=${ELECTION_MS:-1000}
TLS=${LOCAL_CLUSTER_TLS:-1}

grpc_port() { echo $((7000 + $1)); }
raft_port() { echo $((7100 + $1)); }

# The strata CLI, or "" (the Python fallback is used then).
find_strata() {
    if [ -n "${STRATA:-}" ]; then
        echo "$STRATA"
    elif command -v strata >/dev/null 2>&1; then
        command -v strata
    elif [ -x ./build/client/strata ]; then
        echo "$(pwd)/build/client/strata"
    fi
}

find_stratad() {
    if [ -n "${STRATAD:-}" ]; then
        echo "$STRATAD"
    elif command -v stratad >/dev/null 2>&1; then
        command -v stratad
    elif [ -x ./build/server/stratad ]; then
        echo "$(pwd)/build/server/stratad"
    else
        echo "local-cluster: no stratad: build it (cmake --build build) or put it on PATH" >&2
        exit 1
    fi
}

pid_of() {
    local f="$DIR/node$1/stratad.pid"
    [ -f "$f" ] && cat "$f" || true
}

alive() {
    local pid
    pid=$(pid_of "$1")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

cluster_list() {
    local list="" i
    for i in $(seq 1 $N); do
        list="$list${list:+,}127.0.0.1:$(grpc_port "$i")"
    done
    echo "$list"
}

cluster_line() {
    echo "export STRATA_CLUSTER=$(cluster_list)"
    if tls_on; then
        echo "export STRATA_CA=$DIR/tls/ca.pem"
    else
        echo "export STRATA_PLAINTEXT=1"
    fi
}

# Whether the nodes serve TLS: their config says so (status, stop), or, before the first
# config is written, LOCAL_CLUSTER_TLS.
tls_on() {
    if [ -f "$DIR/node1/stratad.conf" ]; then
        grep -q '^tls-cert' "$DIR/node1/stratad.conf"
    else
        [ "$TLS" != 0 ]
    fi
}

# The transport for this script's own strata and Python calls.
client_env() {
    if tls_on; then
        export STRATA_CA="$DIR/tls/ca.pem" LC_CA="$DIR/tls/ca.pem"
        unset STRATA_PLAINTEXT STRATA_CERT STRATA_CERT_KEY
    else
        export STRATA_PLAINTEXT=1 LC_CA=""
        unset STRATA_CA STRATA_CERT STRATA_CERT_KEY
    fi
}

# A throwaway CA and a certificate for 127.0.0.1 and localhost, once (a development
# cluster: the CA key stays next to it).
make_certs() {
    local t="$DIR/tls" o=/usr/bin/openssl
    [ -f "$t/node.pem" ] && [ -f "$t/node.key" ] && [ -f "$t/ca.pem" ] && return 0
    if [ ! -x "$o" ]; then
        echo "local-cluster: no $o to make TLS certificates: run deploy/install-deps.sh, or" \
            "LOCAL_CLUSTER_TLS=0 for plaintext on loopback" >&2
        exit 1
    fi
    mkdir -p "$t"
    chmod 700 "$t"
    (
        umask 077
        cd "$t"
        "$o" req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
            -keyout ca.key -out ca.pem -days 3650 -subj "/CN=Strata local cluster CA" \
            >/dev/null 2>&1
        "$o" req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
            -keyout node.key -out node.csr -subj "/CN=Strata local node" >/dev/null 2>&1
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' \
            >node.ext
        "$o" x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
            -extfile node.ext -out node.pem >/dev/null 2>&1
        rm -f node.csr node.ext ca.srl
        chmod 644 ca.pem node.pem
    ) || {
        echo "local-cluster: openssl could not make the certificates in $t" >&2
        exit 1
    }
    echo "made a CA and a node certificate for 127.0.0.1 in $t"
}

# Cluster.Status of node $1 as "state ready leader_id term applied", or "down". Uses
# Debian's python3-grpcio with a raw call (no generated stubs needed).
node_status() {
    client_env
    /usr/bin/python3 - "$(grpc_port "$1")" 2>/dev/null <<'PY' || echo down
import os, sys, grpc
port = sys.argv[1]
ca = os.environ.get("LC_CA")
ch = (grpc.secure_channel("127.0.0.1:" + port,
                          grpc.ssl_channel_credentials(open(ca, "rb").read()))
      if ca else grpc.insecure_channel("127.0.0.1:" + port))
call = ch.unary_unary("/strata.v1.Cluster/Status")
raw = call(b"", timeout=1)
fields, i = {}, 0
def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if c < 0x80: return v, i
while i < len(raw):
    key, i = varint(raw, i)
    num, wt = key >> 3, key & 7
    if wt == 0:
        v, i = varint(raw, i)
    elif wt == 2:
        n, i = varint(raw, i); v = raw[i:i + n]; i += n
    else:
        raise SystemExit(1)
    fields.setdefault(num, v)
state = fields.get(2, b"").decode() or "unknown"
print(state, "ready" if fields.get(3) else "-", fields.get(4, 0), fields.get(6, 0),
      fields.get(8, 0))
PY
}

# Without the CLI: keygen, genesis and register in Python. Usage:
#   py_tool keygen FILE | genesis OPKEY SUPKEY | register OPKEY ID RAFT GRPC
py_tool() {
    /usr/bin/python3 - "$@" <<'PY'
import base64, hashlib, os, struct, sys, time
import grpc
try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
except ImportError:
    sys.exit("local-cluster: no strata CLI and no python3-cryptography: build the CLI "
             "(cmake --build build) or apt-get install python3-cryptography")

CLUSTER = os.environ["LC_CLUSTER"].split(",")
CA = os.environ.get("LC_CA")

def channel(addr):
    if CA:
        return grpc.secure_channel(addr, grpc.ssl_channel_credentials(open(CA, "rb").read()))
    return grpc.insecure_channel(addr)

def raw(sk):
    return sk.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)

def load(path):  # docs/FORMATS.md §9, plain files only
    lines = open(path).read().split("\n")
    if lines[0] != "strata-key-v1 plain":
        sys.exit("local-cluster: %s: only plain key files are handled without the CLI" % path)
    seed = base64.b64decode(lines[2].split(" ", 1)[1])
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    return sk, raw(sk)

def varint(v):
    out = b""
    while True:
        b = v & 0x7f
        v >>= 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out

def field(num, val):  # protobuf: bytes/strings (wire type 2) and integers (0)
    if isinstance(val, int):
        return varint(num << 3) + varint(val)
    if isinstance(val, str):
        val = val.encode()
    return varint(num << 3 | 2) + varint(len(val)) + val

def call(method, body, sk=None, pk=None):
    md = ()
    for attempt in range(60):
        for addr in CLUSTER:
            if sk is not None:  # docs/FORMATS.md §8, afresh for every attempt
                kid = hashlib.sha256(b"strata-key-id-v1" + pk).digest()[:16]
                tbs = (b"\x01" + struct.pack(">H", len(method)) + method.encode() + kid +
                       struct.pack(">Q", int(time.time() * 1000)) + os.urandom(16) +
                       hashlib.sha256(body).digest())
                md = (("strata-auth-bin", tbs + sk.sign(b"strata-request-v1\x00" + tbs)),)
            ch = channel(addr)
            try:
                return ch.unary_unary(method)(body, metadata=md, timeout=3)
            except grpc.RpcError as e:
                if e.code() not in (grpc.StatusCode.UNAVAILABLE,
                                    grpc.StatusCode.DEADLINE_EXCEEDED):
                    sys.exit("local-cluster: %s: %s: %s" % (method, e.code().name, e.details()))
            finally:
                ch.close()
        time.sleep(0.2)
    sys.exit("local-cluster: %s: no leader answered" % method)

cmd = sys.argv[1]
if cmd == "keygen":
    seed = os.urandom(32)
    pk = raw(Ed25519PrivateKey.from_private_bytes(seed))
    text = "strata-key-v1 plain\npublic %s\nseed %s\n" % (base64.b64encode(pk).decode(),
                                                         base64.b64encode(seed).decode())
    fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, text.encode())
    os.close(fd)
elif cmd == "genesis":
    sk, pk = load(sys.argv[2])
    _, sup = load(sys.argv[3])
    body = (field(1, os.urandom(16)) + field(2, pk) + field(3, sup) +
            field(4, "local operator") + field(5, "local supervisor"))
    call("/strata.v1.Keys/Genesis", body, sk, pk)
elif cmd == "register":
    sk, pk = load(sys.argv[2])
    node, raft_addr, grpc_addr = int(sys.argv[3]), sys.argv[4], sys.argv[5]
    ch = channel(grpc_addr)
    status = ch.unary_unary("/strata.v1.Cluster/Status")(b"", timeout=3)
    ch.close()
    i, node_key = 0, None
    while i < len(status):  # StatusResponse.node_public_key = 12
        key = status[i]; i += 1
        num, wt = key >> 3, key & 7
        v = s = 0
        if num > 15 or wt not in (0, 2):
            sys.exit("local-cluster: unexpected Status answer")
        while True:
            c = status[i]; i += 1; v |= (c & 0x7f) << s; s += 7
            if c < 0x80:
                break
        if wt == 2:
            if num == 12:
                node_key = status[i:i + v]
            i += v
    if node_key is None or len(node_key) != 32:
        sys.exit("local-cluster: node %d reports no key" % node)
    body = (field(1, os.urandom(16)) + field(2, node) + field(3, raft_addr) +
            field(4, grpc_addr) + field(5, node_key))
    call("/strata.v1.Cluster/RegisterNode", body, sk, pk)
PY
}

# The public key (base64) of a key file: its `public` line.
key_public() {
    sed -n 's/^public //p' "$1"
}

# Keys, Genesis and the node registrations (each step only once it is needed).
setup_keys() {
    local strata keys op sup i list
    client_env
    strata=$(find_strata)
    keys="$DIR/keys"
    op="$keys/operator.key"
    sup="$keys/supervisor.key"
    list=$(cluster_list)
    mkdir -p "$keys"
    chmod 700 "$keys"
    for k in "$op" "$sup"; do
        [ -f "$k" ] && continue
        if [ -n "$strata" ]; then
            "$strata" keygen --out "$k" --plain >/dev/null
        else
            LC_CLUSTER=$list py_tool keygen "$k"
        fi
        echo "made $k (mode 0600)"
    done
    if [ -n "$strata" ]; then
        # Genesis once: skipped when the operator key is registered already.
        if ! "$strata" --cluster "$list" key show "$(key_id "$op")" >/dev/null 2>&1; then
            "$strata" --cluster "$list" --key "$op" genesis \
                --operator-pub "$(key_public "$op")" --supervisor-pub "$(key_public "$sup")" \
                --operator-label "local operator" --supervisor-label "local supervisor" \
                >/dev/null
            echo "genesis: operator and supervisor keys installed"
        fi
        for i in $(seq 1 $N); do
            "$strata" --cluster "$list" --key "$op" cluster register "$i" \
                --grpc "127.0.0.1:$(grpc_port "$i")" --raft "127.0.0.1:$(raft_port "$i")" \
                >/dev/null
        done
    else
        echo "local-cluster: no strata CLI found; using the Python fallback" >&2
        if [ ! -f "$keys/genesis.done" ]; then
            LC_CLUSTER=$list py_tool genesis "$op" "$sup"
            echo "genesis: operator and supervisor keys installed"
        fi
        for i in $(seq 1 $N); do
            LC_CLUSTER=$list py_tool register "$op" "$i" "127.0.0.1:$(raft_port "$i")" \
                "127.0.0.1:$(grpc_port "$i")"
        done
    fi
    touch "$keys/genesis.done"
    echo "nodes 1-$N registered with their tree-head keys"
}

# The key id (hex) of a key file's public key: SHA-256("strata-key-id-v1" || pk)[:16].
key_id() {
    /usr/bin/python3 -c 'import base64, hashlib, sys
print(hashlib.sha256(b"strata-key-id-v1" + base64.b64decode(sys.argv[1])).hexdigest()[:32])' \
        "$(key_public "$1")"
}

write_config() {
    local i=$1 p
    {
        echo "# Written by deploy/local-cluster.sh; see deploy/stratad.conf.example."
        echo "id = $i"
        echo "data-dir = $DIR/node$i/data"
        echo "grpc-listen = 127.0.0.1:$(grpc_port "$i")"
        echo "raft-listen = 127.0.0.1:$(raft_port "$i")"
        for p in $(seq 1 $N); do
            echo "peer = $p=127.0.0.1:$(raft_port "$p"),127.0.0.1:$(grpc_port "$p")"
        done
        echo "election-timeout-ms = $ELECTION_MS"
        echo "log = $DIR/node$i/stratad.log"
        if [ "$TLS" != 0 ]; then
            echo "tls-cert = $DIR/tls/node.pem"
            echo "tls-key = $DIR/tls/node.key"
        else
            echo "grpc-plaintext = true"
        fi
    } >"$DIR/node$i/stratad.conf"
}

cmd_start() {
    local bin i started=0
    bin=$(find_stratad)
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    if [ "$TLS" != 0 ]; then
        make_certs
    fi
    for i in $(seq 1 $N); do
        if alive "$i"; then
            echo "node $i: already running (pid $(pid_of "$i"))"
            continue
        fi
        mkdir -p "$DIR/node$i"
        write_config "$i"
        setsid "$bin" --config "$DIR/node$i/stratad.conf" \
            >>"$DIR/node$i/stderr.log" 2>&1 </dev/null &
        echo $! >"$DIR/node$i/stratad.pid"
        echo "node $i: started (pid $!), gRPC 127.0.0.1:$(grpc_port "$i")"
        started=1
    done
    # Wait for a ready leader.
    local deadline=$((SECONDS + 30)) st
    while :; do
        for i in $(seq 1 $N); do
            if [ $started = 1 ] && ! alive "$i"; then
                echo "node $i exited: see $DIR/node$i/stderr.log" >&2
                tail -5 "$DIR/node$i/stderr.log" >&2 || true
                exit 1
            fi
            st=$(node_status "$i")
            if [ "${st%% *}" = leader ] && [ "$(echo "$st" | cut -d' ' -f2)" = ready ]; then
                echo "leader: node $i (term $(echo "$st" | cut -d' ' -f4))"
                setup_keys
                cluster_line
                echo "export STRATA_KEY=$DIR/keys/operator.key   # the operator"
                echo "# the supervisor's key: $DIR/keys/supervisor.key"
                return 0
            fi
        done
        if [ $SECONDS -ge $deadline ]; then
            echo "no ready leader after 30 s: see $DIR/node*/stratad.log" >&2
            exit 1
        fi
        sleep 0.2
    done
}

cmd_status() {
    local i st leader=""
    for i in $(seq 1 $N); do
        if alive "$i"; then
            st=$(node_status "$i")
            echo "node $i: pid $(pid_of "$i") alive, gRPC 127.0.0.1:$(grpc_port "$i"): $st"
            [ "${st%% *}" = leader ] && leader=$i
        elif [ -n "$(pid_of "$i")" ]; then
            echo "node $i: pid $(pid_of "$i") dead"
        else
            echo "node $i: not started"
        fi
    done
    if [ -n "$leader" ]; then
        echo "leader: node $leader (127.0.0.1:$(grpc_port "$leader"))"
    else
        echo "leader: none"
    fi
    echo "(status columns: state, ready, leader id, term, applied index)"
}

cmd_stop() {
    local i pid waited
    for i in $(seq 1 $N); do
        alive "$i" && kill -TERM "$(pid_of "$i")" 2>/dev/null || true
    done
    for i in $(seq 1 $N); do
        pid=$(pid_of "$i")
        [ -z "$pid" ] && continue
        waited=0
        while kill -0 "$pid" 2>/dev/null && [ $waited -lt $((STOP_TIMEOUT * 10)) ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "node $i: still running after ${STOP_TIMEOUT}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        else
            echo "node $i: stopped"
        fi
        rm -f "$DIR/node$i/stratad.pid"
    done
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac

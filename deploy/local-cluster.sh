#!/usr/bin/env bash
# local-cluster.sh - a 3-node Strata cluster on this machine, for development and demos.
#
#   deploy/local-cluster.sh start    start the nodes (those not running), wait for a ready
#                                    leader, print the STRATA_CLUSTER line to export
#   deploy/local-cluster.sh status   each node's pid and whether it runs, and the leader
#   deploy/local-cluster.sh stop     SIGTERM every node, SIGKILL after STOP_TIMEOUT seconds
#
# Node i (1..3) serves gRPC on 127.0.0.1:700i and Raft on 127.0.0.1:710i. Its config file,
# data, log and pid file live in $LOCAL_CLUSTER_DIR/node<i>/ (default ./var/local-cluster,
# relative to where you run the script): stratad.conf, data/, stratad.log, stratad.pid.
# The binary is $STRATAD, else `stratad` on PATH, else ./build/server/stratad.
# Data survives stop/start; `rm -rf ./var/local-cluster` starts afresh.
set -euo pipefail

N=3
DIR=${LOCAL_CLUSTER_DIR:-./var/local-cluster}
STOP_TIMEOUT=${STOP_TIMEOUT:-15}
ELECTION_MS=${ELECTION_MS:-1000}

grpc_port() { echo $((7000 + $1)); }
raft_port() { echo $((7100 + $1)); }

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

cluster_line() {
    local list="" i
    for i in $(seq 1 $N); do
        list="$list${list:+,}127.0.0.1:$(grpc_port "$i")"
    done
    echo "export STRATA_CLUSTER=$list"
}

# Cluster.Status of node $1 as "state ready leader_id term applied", or "down". Uses
# Debian's python3-grpcio with a raw call (no generated stubs needed).
node_status() {
    /usr/bin/python3 - "$(grpc_port "$1")" 2>/dev/null <<'PY' || echo down
import sys, grpc
port = sys.argv[1]
ch = grpc.insecure_channel("127.0.0.1:" + port)
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
    } >"$DIR/node$i/stratad.conf"
}

cmd_start() {
    local bin i started=0
    bin=$(find_stratad)
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd)
    # --- keys: later, with enrollment, create the operator and supervisor keys under
    # --- $DIR/keys/ here (strata keygen) and send the cluster's Genesis command once the
    # --- leader is ready (see docs/OPERATIONS.md). Nothing to do yet.
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
                cluster_line
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

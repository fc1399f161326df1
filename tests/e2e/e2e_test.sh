#!/usr/bin/env bash
# e2e_test.sh - issue #5's "Done when": a 3-node cluster of its own (stratad started the way
# deploy/local-cluster.sh starts it, on loopback ports of this test's own), then DOMAIN.md's
# worked example end to end through the strata command line only (walkthrough.sh): the
# operator's Genesis and node registration, the supervisor's community and organiser, the
# organiser's roll, vote and ten enrollment codes, ten owners enrolling and voting (one
# replacing a ballot), close and publish, a resident's result and receipt check, the
# supervisor's export, offline verification (and every tamper caught) and certification,
# and a lost phone's revocation.
#
#   e2e_test.sh STRATA STRATAD DATA_DIR SCRATCH_DIR [BUNDLE_TAMPER]
#
# The nodes are stopped (SIGTERM, then SIGKILL) however the test ends; their logs stay in
# SCRATCH_DIR/node<i>/ for a failed run.
set -u

STRATA=$1
STRATAD=$2
DATA=$3
SCRATCH=$4
TAMPER=${5:-}
N=3
# Ports of our own: away from deploy/local-cluster.sh (7001..) and the other tests.
BASE=${E2E_PORT_BASE:-$((23000 + ($$ % 400) * 10))}
PIDS=""

rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
SCRATCH=$(cd "$SCRATCH" && pwd)

grpc_port() { echo $((BASE + $1)); }
raft_port() { echo $((BASE + 5 + $1)); }

stop_nodes() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $PIDS; do
        for _ in $(seq 1 100); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null
    done
    wait 2>/dev/null
}
trap stop_nodes EXIT INT TERM

cluster=""
for i in $(seq 1 $N); do
    mkdir -p "$SCRATCH/node$i"
    {
        echo "# Written by tests/e2e/e2e_test.sh, as deploy/local-cluster.sh writes its own."
        echo "id = $i"
        echo "data-dir = $SCRATCH/node$i/data"
        echo "grpc-listen = 127.0.0.1:$(grpc_port "$i")"
        echo "raft-listen = 127.0.0.1:$(raft_port "$i")"
        for p in $(seq 1 $N); do
            echo "peer = $p=127.0.0.1:$(raft_port "$p"),127.0.0.1:$(grpc_port "$p")"
        done
        echo "election-timeout-ms = 1000"
        echo "log = $SCRATCH/node$i/stratad.log"
        echo "grpc-plaintext = true"
    } >"$SCRATCH/node$i/stratad.conf"
    "$STRATAD" --config "$SCRATCH/node$i/stratad.conf" >"$SCRATCH/node$i/stderr.log" 2>&1 \
        </dev/null &
    PIDS="$PIDS $!"
    cluster="$cluster${cluster:+,}127.0.0.1:$(grpc_port "$i")"
done
export STRATA_CLUSTER=$cluster
# Plaintext on loopback (deploy/demo.sh runs the same walk over TLS).
export STRATA_PLAINTEXT=1
unset STRATA_CA STRATA_CERT STRATA_CERT_KEY
echo "e2e: 3 nodes started on $cluster"

# A ready leader: cluster status names one and the leader has applied its barrier.
deadline=$((SECONDS + 30))
while :; do
    for p in $PIDS; do
        if ! kill -0 "$p" 2>/dev/null; then
            echo "e2e: a node exited at start:" >&2
            tail -n 5 "$SCRATCH"/node*/stderr.log >&2
            exit 1
        fi
    done
    if "$STRATA" cluster status --json --timeout 2 >"$SCRATCH/status" 2>/dev/null &&
        grep -q '"state":"leader","ready":true' "$SCRATCH/status"; then
        break
    fi
    if [ $SECONDS -ge $deadline ]; then
        echo "e2e: no ready leader after 30 s" >&2
        cat "$SCRATCH/status" >&2
        exit 1
    fi
    sleep 0.2
done
echo "e2e: leader ready: $(sed 's/.*"leader_id":\([0-9]*\).*/node \1/' "$SCRATCH/status")"

mkdir -p "$SCRATCH/work"
STRATA=$STRATA WORK="$SCRATCH/work" DATA=$DATA NODES=$N TAMPER=$TAMPER \
    bash "$(dirname "$0")/walkthrough.sh"
rc=$?
if [ $rc -ne 0 ]; then
    echo "e2e: the walkthrough failed; node logs in $SCRATCH/node*/stratad.log" >&2
    for i in $(seq 1 $N); do
        echo "--- node $i (last lines)" >&2
        tail -n 8 "$SCRATCH/node$i/stratad.log" >&2 2>/dev/null
    done
fi
exit $rc

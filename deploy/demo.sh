#!/usr/bin/env bash
# demo.sh - the main job on a fresh machine: installs the dependencies, builds Strata,
# starts the local 3-node cluster (deploy/local-cluster.sh, in ./var/demo/cluster, fresh on
# every run: its start makes the operator and supervisor keys, sends Genesis and registers
# the nodes), then walks DOMAIN.md's worked example through the `strata` command line with
# narration: the street-office supervisor creates the community and appoints its
# organiser; the organiser imports the roll, creates the vote and issues ten enrollment
# codes; ten owners enroll their own keys and vote (one replaces a ballot); the vote closes
# and is published; a resident checks a receipt; the supervisor exports the audit bundle,
# verifies it offline (and sees every tamper caught) and certifies; a second vote shows a
# proxy, a paper ballot and a special matter; a lost phone is revoked with two signatures.
# It ends with the result report and the supervisor's independent `strata tally` recount of
# the exported bundle. The nodes serve gRPC over TLS with a throwaway CA that
# local-cluster.sh makes with openssl (LOCAL_CLUSTER_TLS=0: plaintext on loopback).
#
# The cluster is LEFT RUNNING at the end (so that you can try the commands yourself); the
# last lines say how to use it and how to stop it. Every step is checked: the demo stops
# at the first unexpected answer (tests/e2e/walkthrough.sh, the same walk the end-to-end
# test runs).
#   DEMO_DIR=DIR   where the cluster, keys, receipts and bundles go (default ./var/demo)
#   BUILD_DIR=DIR  the build tree (default ./build)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

deploy/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
echo "== Building Strata ($BUILD_DIR/) ..."
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" >/dev/null
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
export STRATA="$BUILD_DIR/client/strata" STRATAD="$BUILD_DIR/server/stratad"

DEMO_DIR=${DEMO_DIR:-./var/demo}
mkdir -p "$DEMO_DIR"
DEMO_DIR=$(cd "$DEMO_DIR" && pwd)
export LOCAL_CLUSTER_DIR="$DEMO_DIR/cluster"
# A fresh cluster every run: stop the previous demo's nodes, then start from nothing.
deploy/local-cluster.sh stop >/dev/null 2>&1 || true
rm -rf "$LOCAL_CLUSTER_DIR" "$DEMO_DIR/work"
mkdir -p "$DEMO_DIR/work"

echo
echo "== Operator: starts a 3-node cluster on this machine (deploy/local-cluster.sh start)"
if ! deploy/local-cluster.sh start | tee "$DEMO_DIR/start.log"; then
    echo "demo: the cluster did not start. Ports 7001-7003 and 7101-7103 must be free: is" >&2
    echo "another local cluster running (deploy/local-cluster.sh status)?" >&2
    exit 1
fi
STRATA_CLUSTER=$(sed -n 's/^export STRATA_CLUSTER=//p' "$DEMO_DIR/start.log" | tail -n 1)
export STRATA_CLUSTER
# The nodes serve TLS with the cluster's throwaway CA (LOCAL_CLUSTER_TLS=0: plaintext).
unset STRATA_CA STRATA_PLAINTEXT STRATA_CERT STRATA_CERT_KEY
STRATA_CA=$(sed -n 's/^export STRATA_CA=//p' "$DEMO_DIR/start.log" | tail -n 1)
STRATA_PLAINTEXT=$(sed -n 's/^export STRATA_PLAINTEXT=//p' "$DEMO_DIR/start.log" | tail -n 1)
if [ -n "$STRATA_CA" ]; then
    export STRATA_CA
    TRANSPORT_LINE="export STRATA_CA=$STRATA_CA"
    TRANSPORT_WORDS="over TLS, with the throwaway CA of $LOCAL_CLUSTER_DIR/tls/"
else
    unset STRATA_CA
    export STRATA_PLAINTEXT
    TRANSPORT_LINE="export STRATA_PLAINTEXT=$STRATA_PLAINTEXT"
    TRANSPORT_WORDS="in plaintext, on loopback only"
fi

NARRATE=1 WORK="$DEMO_DIR/work" DATA="$ROOT/tests/data" NODES=3 \
    OPERATOR_KEY="$LOCAL_CLUSTER_DIR/keys/operator.key" \
    SUPERVISOR_KEY="$LOCAL_CLUSTER_DIR/keys/supervisor.key" \
    TAMPER="$BUILD_DIR/tests/client/bundle_tamper" \
    bash tests/e2e/walkthrough.sh

V=$(sed -n 's/^vote //p' "$DEMO_DIR/work/ids")
B=$(sed -n 's/^bundle //p' "$DEMO_DIR/work/ids")
B2=$(sed -n 's/^bundle2 //p' "$DEMO_DIR/work/ids")
echo
echo "=================================================================================="
echo "== The result report of vote $V, as published (anyone: strata vote result $V)"
echo "=================================================================================="
"$STRATA" vote result "$V"
echo
echo "=================================================================================="
echo "== The supervisor's independent recount of the exported bundle, offline (strata tally)"
echo "=================================================================================="
echo "-- as an ordinary matter, vote $V (matter 4: hire a property company):"
"$STRATA" tally --roll "$B/roll.csv" --ballots "$B/ballots.csv" --matter 4
echo
echo "-- the same ballots as a special matter (matter 6: raise the maintenance fund):"
"$STRATA" tally --roll "$B2/roll.csv" --ballots "$B2/ballots.csv" --matter 6
echo
echo "-- the same as JSON, for machines:"
"$STRATA" tally --roll "$B/roll.csv" --ballots "$B/ballots.csv" --matter 4 --json

cat <<EOT

The cluster is still running (its gRPC API $TRANSPORT_WORDS).
To use it from this shell:
    export STRATA_CLUSTER=$STRATA_CLUSTER
    $TRANSPORT_LINE
    export PATH="$BUILD_DIR/client:\$PATH"
    strata vote result $V
    strata audit verify $B
Keys: $LOCAL_CLUSTER_DIR/keys/ (operator, supervisor), $DEMO_DIR/work/keys/ (organiser),
$DEMO_DIR/work/owners/ (owners and their receipts).
To stop it:
    LOCAL_CLUSTER_DIR=$LOCAL_CLUSTER_DIR deploy/local-cluster.sh stop
EOT

#!/bin/sh
# config_test.sh - stratad's settings: bad flags, bad values, unknown keys (with the file
# and line), missing required keys are refused with exit status 2 and a message naming the
# key; flags override the config file; a second stratad on the same data directory or on a
# taken port is refused (status 1); a missing or sealed --node-key is refused (status 1), and
# the default node key is made in the data directory with mode 0600; SIGTERM stops a node
# with status 0.
# Usage: config_test.sh STRATAD
set -u
STRATAD=$1
DIR=$(mktemp -d /tmp/strata-config-XXXXXX)
PIDS=""
cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
BASE=$((10000 + ($$ % 200) * 10 + 2000))
FAIL=0

# expect STATUS TEXT ARGS...: stratad ARGS exits with STATUS and its stderr contains TEXT.
expect() {
    want=$1 text=$2
    shift 2
    "$STRATAD" "$@" >"$DIR/out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ] || ! grep -qF -- "$text" "$DIR/out"; then
        echo "FAIL: stratad $* -> status $got (want $want), output:"
        cat "$DIR/out"
        echo "(wanted text: $text)"
        FAIL=1
    else
        echo "ok: status $got: $(head -1 "$DIR/out")"
    fi
}

# Plaintext gRPC on loopback (the TLS settings have their own test, tests/tls).
GOOD="--id=1 --data-dir=$DIR/d1 --grpc-listen=127.0.0.1:$BASE --raft-listen=127.0.0.1:$((BASE + 1)) --peer=1=127.0.0.1:$((BASE + 1)),127.0.0.1:$BASE --grpc-plaintext"

expect 0 "--election-timeout-ms" --help
expect 2 "id: missing"
expect 2 "unknown flag --bogus" $GOOD --bogus=1
expect 2 "election-timeout-ms" $GOOD --election-timeout-ms=abc
expect 2 "heartbeat-ms" $GOOD --heartbeat-ms=2000
expect 2 "grpc-listen" $GOOD --grpc-listen=nowhere
expect 2 "peer: \"1=x\"" $GOOD --peer=1=x
expect 2 "the node's public key in base64" $GOOD --peer=1=127.0.0.1:$((BASE + 1)),127.0.0.1:$BASE,not-a-key
expect 2 "peer: missing" --id=1 --data-dir=$DIR/d1 --grpc-listen=127.0.0.1:$BASE --raft-listen=127.0.0.1:$((BASE + 1))
expect 2 "this node (id 2) is not in the peer list" --id=2 --data-dir=$DIR/d1 --grpc-listen=127.0.0.1:$BASE --raft-listen=127.0.0.1:$((BASE + 1)) --peer=1=127.0.0.1:$((BASE + 1)),127.0.0.1:$BASE
expect 2 "lmdb-map-size" $GOOD --lmdb-map-size=12Q

# Node keys: a --node-key file must exist and be a plain key file.
expect 1 "does not exist" $GOOD --node-key=$DIR/missing.key
A43=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
{
    echo "strata-key-v1 sealed"
    echo "public $A43="
    echo "kdf argon2id13 2 67108864"
    echo "salt AAAAAAAAAAAAAAAAAAAAAA=="
    echo "nonce AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    echo "box ${A43}AAAAAAAAAAAAAAAAAAAAA"
} >"$DIR/sealed.key"
expect 1 "sealed with a passphrase" $GOOD --node-key=$DIR/sealed.key
rm -rf "$DIR/d1"

cat >"$DIR/bad.conf" <<CONF
# a comment
id = 1
electon-timeout-ms = 500
CONF
expect 2 "bad.conf:3: unknown key \"electon-timeout-ms\"" --config "$DIR/bad.conf"
cat >"$DIR/bad2.conf" <<CONF
id = 1
snapshot-threshold = -4
CONF
expect 2 "bad2.conf:2: snapshot-threshold" --config "$DIR/bad2.conf"
expect 2 "cannot read" --config "$DIR/missing.conf"

# A whole config file, with a flag overriding one of its keys.
cat >"$DIR/good.conf" <<CONF
id = 1
data_dir = $DIR/d1
grpc-listen = 127.0.0.1:$((BASE + 5))
raft-listen = 127.0.0.1:$((BASE + 1))
peer = 1=127.0.0.1:$((BASE + 1)),127.0.0.1:$((BASE + 5))
election-timeout-ms = 1000
log = $DIR/d1.log
grpc-plaintext = true
CONF
# The flag moves gRPC to BASE; the file's peer list still names BASE+5: flags win per key.
"$STRATAD" --config "$DIR/good.conf" --grpc-listen=127.0.0.1:$BASE \
    --peer=1=127.0.0.1:$((BASE + 1)),127.0.0.1:$BASE 2>"$DIR/n1.err" &
P1=$!
PIDS="$PIDS $P1"
i=0
while ! grep -q "serving: gRPC 127.0.0.1:$BASE" "$DIR/d1.log" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 300 ]; then echo "FAIL: node from good.conf did not start"; cat "$DIR/n1.err"; exit 1; fi
    sleep 0.05
done
echo "ok: a node started from good.conf with --grpc-listen overriding it"
mode=$(stat -c %a "$DIR/d1/node.key" 2>/dev/null)
if [ "$mode" = 600 ] && head -1 "$DIR/d1/node.key" | grep -q "^strata-key-v1 plain$" &&
    grep -q "node key $DIR/d1/node.key (made now)" "$DIR/d1.log"; then
    echo "ok: the node made its key $DIR/d1/node.key (mode 600) and logged it"
else
    echo "FAIL: node key: mode '$mode'"
    FAIL=1
fi

# The same data directory, and a taken port: refused with status 1.
expect 1 "in use by another stratad" --config "$DIR/good.conf" --grpc-listen=127.0.0.1:$((BASE + 7))
expect 1 "cannot listen on 127.0.0.1:$BASE" --id=2 --data-dir=$DIR/d2 --grpc-listen=127.0.0.1:$BASE --raft-listen=127.0.0.1:$((BASE + 8)) --peer=2=127.0.0.1:$((BASE + 8)),127.0.0.1:$BASE --grpc-plaintext

kill -TERM $P1
wait $P1
st=$?
if [ $st -ne 0 ]; then echo "FAIL: SIGTERM -> status $st"; FAIL=1; else echo "ok: SIGTERM -> status 0"; fi
grep -q "stratad stopped" "$DIR/d1.log" || { echo "FAIL: no stop line in the log"; FAIL=1; }
exit $FAIL

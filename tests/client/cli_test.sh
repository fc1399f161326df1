#!/bin/sh
# cli_test.sh - runs the built `strata` program's cluster commands as a user runs them and
# asserts exit status, output and messages. One section per ctest test:
#
#   sh cli_test.sh SECTION STRATA DATA_DIR SCRATCH_DIR FAKE_NODE
#
#   help         every command's --help (and `strata help ...`) exits 0 with its usage
#   usage        bad flags and arguments exit 2 with the usage line, before any network
#   unreachable  a cluster nobody answers on exits 3 naming every address tried
#   keys         keygen (mode 0600, no overwrite), 0644 refused, sealed round trip with
#                STRATA_PASSPHRASE
#   fake         against fake nodes (tests/client/fake_node.c): ids printed, {"id": N},
#                a refusal exits 1 with the service's message, a follower's redirect is
#                followed, `vote result` prints strata tally's report and JSON keys
set -u

section=$1
strata=$2
data=$3
scratch=$4
fake_node=$5

rm -rf "$scratch"
mkdir -p "$scratch"
fails=0
desc=""
rc=0
# No cluster or key from the caller's environment, and no terminal to ask on.
unset STRATA_CLUSTER STRATA_KEY STRATA_PASSPHRASE STRATA_TIMEOUT
DEAD="127.0.0.1:1,127.0.0.1:9"

fail() {
    printf 'FAIL: %s: %s\n' "$desc" "$*" >&2
    fails=$((fails + 1))
}

# run DESCRIPTION ARGS... : runs strata without a controlling terminal (setsid), keeps
# stdout, stderr and the exit status.
run() {
    desc=$1
    shift
    setsid -w "$strata" "$@" >"$scratch/out" 2>"$scratch/err" </dev/null
    rc=$?
}

expect_rc() {
    [ "$rc" -eq "$1" ] || fail "exit status $rc, expected $1 (stderr: $(cat "$scratch/err"))"
}

expect_out() {
    printf '%s\n' "$1" >"$scratch/want"
    if ! cmp -s "$scratch/want" "$scratch/out"; then
        fail "stdout differs (- expected, + got):"
        diff -u "$scratch/want" "$scratch/out" >&2
    fi
}

expect_no_out() {
    [ ! -s "$scratch/out" ] || fail "stdout should be empty but is: $(cat "$scratch/out")"
}

expect_no_err() {
    [ ! -s "$scratch/err" ] || fail "stderr should be empty but is: $(cat "$scratch/err")"
}

expect_err_has() {
    grep -Fq -- "$1" "$scratch/err" || fail "stderr lacks \"$1\": $(cat "$scratch/err")"
}

expect_err_lacks() {
    ! grep -Fq -- "$1" "$scratch/err" || fail "stderr has \"$1\": $(cat "$scratch/err")"
}

# A usage error: exit 2, nothing on stdout, the message and a usage line on stderr.
expect_usage() {
    expect_rc 2
    expect_no_out
    expect_err_has "$1"
    grep -q '^usage: strata' "$scratch/err" || fail "no usage line: $(cat "$scratch/err")"
}

LEAVES="keygen|key show|community create|community show|roll import|roll show|vote create|vote notice|vote open|vote close|vote publish|vote list|vote result|ballot cast|ballot show|cluster status|cluster add|cluster remove|cluster transfer|audit trail|tally"
GROUPS="key community roll vote ballot cluster audit"

section_help() {
    run "strata --help" --help
    expect_rc 0
    expect_no_err
    for g in keygen $GROUPS tally; do
        grep -Eq "^  $g +[a-z]" "$scratch/out" || fail "$g is not listed in strata --help"
    done
    IFS='|'
    for cmd in $LEAVES; do
        IFS=' '
        # shellcheck disable=SC2086
        run "$cmd --help" $cmd --help
        expect_rc 0
        expect_no_err
        head -n 1 "$scratch/out" | grep -Fq "usage: strata $cmd" ||
            fail "first line is not the usage: $(head -n 1 "$scratch/out")"
        cp "$scratch/out" "$scratch/help1"
        # shellcheck disable=SC2086
        run "help $cmd" help $cmd
        expect_rc 0
        cmp -s "$scratch/help1" "$scratch/out" || fail "strata help $cmd differs from --help"
        # shellcheck disable=SC2086
        run "$cmd --bogus --help" $cmd --bogus --help
        expect_rc 0
        cmp -s "$scratch/help1" "$scratch/out" || fail "--help does not win over a bad option"
        IFS='|'
    done
    IFS=' '
    for g in $GROUPS; do
        run "$g --help" "$g" --help
        expect_rc 0
        expect_no_err
        head -n 1 "$scratch/out" | grep -Fq "usage: strata $g " || fail "no group usage line"
        run "$g without a subcommand" "$g"
        expect_rc 2
        expect_no_out
        expect_err_has "strata $g: which one?"
        run "$g frobnicate" "$g" frobnicate
        expect_rc 2
        expect_err_has "strata $g: unknown command \"frobnicate\""
    done
    run "vote --help lists its commands" vote --help
    for s in create notice open close publish list result; do
        grep -q "^  strata vote $s " "$scratch/out" || fail "vote $s is not listed"
    done
}

section_usage() {
    IFS='|'
    for cmd in $LEAVES; do
        IFS=' '
        # shellcheck disable=SC2086
        run "$cmd --bogus" $cmd --bogus
        expect_usage "unknown option \"--bogus\""
        IFS='|'
    done
    IFS=' '
    C="--cluster $DEAD"
    # shellcheck disable=SC2086
    {
        run "missing id" community show $C
        expect_usage "COMMUNITY is missing"
        run "id not a number" community show abc $C
        expect_usage "COMMUNITY \"abc\" is not a number"
        run "id zero" vote result 0 $C
        expect_usage "VOTE \"0\" is not a number"
        run "id with a sign" vote result +3 $C
        expect_usage "VOTE \"+3\" is not a number"
        run "extra argument" community show 1 2 $C
        expect_usage "unexpected argument \"2\""
        run "name missing" community create --street S $C
        expect_usage "--name is missing"
        run "value missing" community create --name A $C --street
        expect_usage "--street needs a value"
        run "option twice" community create --name A --name B --street S $C
        expect_usage "--name is given twice"
        run "matter 10" vote create 1 --matter 10 --title T $C
        expect_usage "--matter \"10\" is not a number from 1 to 9"
        run "election without seats" vote create 1 --matter 3 --title T --candidate A $C
        expect_usage "needs --seats"
        run "even seats" vote create 1 --matter 3 --title T --seats 6 --candidate A $C
        expect_usage "an odd number from 5 to 11"
        run "election without candidates" vote create 1 --matter 3 --title T --seats 5 $C
        expect_usage "needs --candidate"
        run "candidate twice" vote create 1 --matter 3 --title T --seats 5 --candidate A B A $C
        expect_usage "candidate \"A\" is named twice"
        run "seats on a matter" vote create 1 --matter 4 --title T --seats 5 $C
        expect_usage "for elections (matter 3) only"
        run "title missing" vote create 1 --matter 4 $C
        expect_usage "--title is missing"
        run "neither choice nor approve" ballot cast 1 --owner O1 $C
        expect_usage "give --choice (a matter) or --approve (an election)"
        run "both choice and approve" ballot cast 1 --owner O1 --choice agree --approve A $C
        expect_usage "give --choice (a matter) or --approve (an election)"
        run "unknown choice" ballot cast 1 --owner O1 --choice maybe $C
        expect_usage "--choice \"maybe\" is not known"
        run "owner missing" ballot cast 1 --choice agree $C
        expect_usage "--owner is missing"
        run "add without raft" cluster add 4 --grpc 127.0.0.1:7004 $C
        expect_usage "--raft is missing"
        run "timeout 0" --timeout 0 vote list 1 $C
        expect_usage "--timeout \"0\" is not a number from 1 to 3600"
        run "bad cluster address" vote list 1 --cluster localhost
        expect_usage "--cluster: cluster address \"localhost\" is not host:port"
        run "keygen without --out" keygen
        expect_usage "--out is missing"
        run "keygen --seal --plain" keygen --out "$scratch/k" --seal --plain
        expect_usage "give --seal or --plain, not both"
    }
    run "no cluster" vote list 1
    expect_usage "no cluster: give --cluster HOST:PORT[,HOST:PORT...] or set STRATA_CLUSTER"
    run "unknown global option" --bogus vote list 1
    expect_rc 2
    expect_err_has "strata: unknown option \"--bogus\""
    desc="bad STRATA_TIMEOUT"
    STRATA_TIMEOUT=abc setsid -w "$strata" vote list 1 --cluster "$DEAD" >"$scratch/out" \
        2>"$scratch/err" </dev/null
    rc=$?
    expect_rc 2
    expect_err_has "STRATA_TIMEOUT \"abc\" is not a number"
    # A usage error comes before any file is read.
    run "usage before files" roll import x /no/such.csv --cluster "$DEAD" --bogus
    expect_usage "unknown option \"--bogus\""
}

# expect_unreachable: exit 3, nothing on stdout, both dead addresses named.
expect_unreachable() {
    expect_rc 3
    expect_no_out
    expect_err_has "cannot reach the cluster within"
    expect_err_has "127.0.0.1:1 ("
    expect_err_has "127.0.0.1:9 ("
    expect_err_has "check --cluster (or STRATA_CLUSTER)"
}

section_unreachable() {
    roll="$data/example-roll.csv"
    for args in "community show 1" "community create --name N --street S" "roll show 1" \
        "vote list 1" "vote result 1" "vote result 1 --stale" "vote open 1" \
        "ballot show 1 --owner O1" "ballot cast 1 --owner O1 --choice agree" \
        "cluster status" "cluster transfer" "audit trail 1" "roll import 1 $roll"; do
        start=$(date +%s)
        # shellcheck disable=SC2086
        run "$args" --cluster "$DEAD" --timeout 1 $args
        took=$(($(date +%s) - start))
        expect_unreachable
        [ "$took" -le 4 ] || fail "took $took s with --timeout 1"
    done
    # A write says the outcome may be unknown.
    run "write unreachable" --cluster "$DEAD" --timeout 1 community create --name N --street S
    expect_err_has "check before repeating it"
    # The environment names the cluster; --cluster wins over it.
    desc="STRATA_CLUSTER"
    STRATA_CLUSTER="$DEAD" STRATA_TIMEOUT=1 setsid -w "$strata" vote list 1 >"$scratch/out" \
        2>"$scratch/err" </dev/null
    rc=$?
    expect_unreachable
    desc="--cluster over STRATA_CLUSTER"
    STRATA_CLUSTER=127.0.0.1:9 setsid -w "$strata" --cluster 127.0.0.1:1 --timeout 1 vote list 1 \
        >"$scratch/out" 2>"$scratch/err" </dev/null
    rc=$?
    expect_rc 3
    expect_err_has "127.0.0.1:1 ("
    expect_err_lacks "127.0.0.1:9"
    # A bad roll never reaches the cluster: refused at its line (exit 1, not 3).
    run "bad roll file" --cluster "$DEAD" --timeout 1 roll import 1 "$data/bad-roll-header.csv"
    expect_rc 1
    expect_no_out
    expect_err_has "strata roll import: $data/bad-roll-header.csv:1: "
    expect_err_lacks "cannot reach"
    run "missing roll file" --cluster "$DEAD" --timeout 1 roll import 1 "$scratch/none.csv"
    expect_rc 1
    expect_err_has "cannot open"
}

section_keys() {
    k1="$scratch/owner.key"
    run "keygen" keygen --out "$k1"
    expect_rc 0
    pub=$(cat "$scratch/out")
    [ ${#pub} -eq 44 ] || fail "public key \"$pub\" is not 44 base64 characters"
    [ "$(stat -c %a "$k1")" = 600 ] || fail "mode $(stat -c %a "$k1"), expected 600"
    [ "$(head -n 1 "$k1")" = "strata-key-v1 plain" ] || fail "not a plain key file"
    run "key show" key show "$k1"
    expect_rc 0
    expect_out "$pub"
    run "key show through --key" --key "$k1" key show --json
    expect_rc 0
    grep -Fq "\"public_key\":\"$pub\"" "$scratch/out" || fail "json: $(cat "$scratch/out")"
    grep -Fq '"sealed":false' "$scratch/out" || fail "json: $(cat "$scratch/out")"

    cp "$k1" "$scratch/copy"
    run "keygen never overwrites" keygen --out "$k1"
    expect_rc 1
    expect_no_out
    expect_err_has "already exists"
    cmp -s "$k1" "$scratch/copy" || fail "the key file changed"

    chmod 644 "$k1"
    run "0644 refused" key show "$k1"
    expect_rc 1
    expect_no_out
    expect_err_has "mode 0644 lets others read the secret key; run \`chmod 600 $k1\`"
    run "0644 refused before any call" --key "$k1" --cluster "$DEAD" --timeout 1 vote list 1
    expect_rc 1
    expect_err_has "chmod 600"
    chmod 600 "$k1"

    k2="$scratch/sealed.key"
    desc="sealed keygen"
    STRATA_PASSPHRASE='two words' setsid -w "$strata" keygen --out "$k2" --json \
        >"$scratch/out" 2>"$scratch/err" </dev/null
    rc=$?
    expect_rc 0
    [ "$(head -n 1 "$k2")" = "strata-key-v1 sealed" ] || fail "not sealed: $(head -n 1 "$k2")"
    [ "$(stat -c %a "$k2")" = 600 ] || fail "mode $(stat -c %a "$k2")"
    grep -Fq '"sealed":true' "$scratch/out" || fail "json: $(cat "$scratch/out")"
    pub2=$(sed 's/.*"public_key":"\([^"]*\)".*/\1/' "$scratch/out")
    grep -Fq "$pub2" "$k2" || fail "the printed public key is not the file's"
    desc="sealed round trip"
    STRATA_PASSPHRASE='two words' setsid -w "$strata" key show "$k2" >"$scratch/out" \
        2>"$scratch/err" </dev/null
    rc=$?
    expect_rc 0
    expect_out "$pub2"
    desc="wrong passphrase"
    STRATA_PASSPHRASE='two word' setsid -w "$strata" key show "$k2" >"$scratch/out" \
        2>"$scratch/err" </dev/null
    rc=$?
    expect_rc 1
    expect_no_out
    expect_err_has "wrong passphrase"
    run "no passphrase and no terminal" key show "$k2"
    expect_rc 1
    expect_err_has "is sealed with a passphrase; set STRATA_PASSPHRASE or run on a terminal"
    # The sealed key opens, then the call goes out (and finds nobody): exit 3, not 1.
    desc="sealed key used by a command"
    STRATA_PASSPHRASE='two words' setsid -w "$strata" --key "$k2" --cluster "$DEAD" \
        --timeout 1 vote list 1 >"$scratch/out" 2>"$scratch/err" </dev/null
    rc=$?
    expect_rc 3
    desc="--plain with STRATA_PASSPHRASE set"
    STRATA_PASSPHRASE='two words' setsid -w "$strata" keygen --out "$scratch/plain.key" --plain \
        >"$scratch/out" 2>"$scratch/err" </dev/null
    rc=$?
    expect_rc 0
    [ "$(head -n 1 "$scratch/plain.key")" = "strata-key-v1 plain" ] || fail "not plain"
    run "--seal without a passphrase" keygen --out "$scratch/k4" --seal
    expect_rc 1
    expect_err_has "--seal needs a passphrase"
    [ ! -e "$scratch/k4" ] || fail "a key was written without its passphrase"
}

# start_fake NAME ARGS...: starts a fake node; its address in $addr.
start_fake() {
    name=$1
    shift
    "$fake_node" "$scratch/$name.addr" "$@" 2>"$scratch/$name.log" &
    echo $! >>"$scratch/pids"
    i=0
    while [ ! -s "$scratch/$name.addr" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    addr=$(cat "$scratch/$name.addr" 2>/dev/null)
    [ -n "$addr" ] || fail "fake node $name did not start: $(cat "$scratch/$name.log")"
}

stop_fakes() {
    [ -f "$scratch/pids" ] && kill $(cat "$scratch/pids") 2>/dev/null
    wait 2>/dev/null
}

section_fake() {
    trap stop_fakes EXIT INT TERM
    start_fake leader --community 42
    leader=$addr
    start_fake follower --follower "$leader"
    follower=$addr
    start_fake refuser --status 9 "vote 3 is closed"
    refuser=$addr
    start_fake votes --vote-example
    votes=$addr

    run "create prints the id" --cluster "$leader" community create --name N --street S
    expect_rc 0
    expect_out "42"
    run "create --json" --cluster "$leader" community create --name N --street S --json
    expect_rc 0
    expect_out '{"id": 42}'
    run "through a follower" --cluster "$follower" community create --name N --street S
    expect_rc 0
    expect_out "42"
    run "a dead node first" --cluster "127.0.0.1:1,$follower" vote create 1 --matter 4 --title T
    expect_rc 0
    expect_out "42"

    run "refused" --cluster "$refuser" vote close 3
    expect_rc 1
    expect_no_out
    expect_err_has "strata vote close: refused by the service (FAILED_PRECONDITION): vote 3 is closed; not allowed in the current state"

    run "vote result --json" --cluster "$votes" vote result 7 --json
    expect_rc 0
    expect_out '{"vote_id":7,"matter":4,"state":"published","class":"ordinary","total_area":134450,"total_owners":10,"part_area":128950,"part_owners":9,"agree_area":84715,"agree_owners":6,"disagree_area":37710,"disagree_owners":2,"abstain_area":6525,"abstain_owners":1,"quorum":true,"passed":true,"ballot_count":9,"stale":false}'
    cp "$scratch/out" "$scratch/result.json"
    # The keys and figures of `strata tally --json` for the same roll and ballots.
    "$strata" tally --roll "$data/example-roll.csv" --ballots "$data/example-ballots.csv" \
        --matter 4 --json >"$scratch/tally.json"
    members=$(sed 's/^{//; s/}$//' "$scratch/tally.json")
    grep -Fq "$members" "$scratch/result.json" || fail "vote result lacks tally's members: $members"
    run "vote result --stale" --cluster "$votes" vote result 7 --stale --json
    expect_rc 0
    grep -Fq '"stale":true' "$scratch/out" || fail "not marked stale: $(cat "$scratch/out")"

    # The readable report is strata tally's, from "Participating:" on.
    run "vote result report" --cluster "$votes" vote result 7
    expect_rc 0
    head -n 1 "$scratch/out" | grep -Fq "Strata vote 7: matter 4 (" || fail "header: $(head -n 1 "$scratch/out")"
    sed -n '/^Participating:/,$p' "$scratch/out" >"$scratch/result.txt"
    "$strata" tally --roll "$data/example-roll.csv" --ballots "$data/example-ballots.csv" \
        --matter 4 | sed -n '/^Participating:/,$p' >"$scratch/tally.txt"
    [ -s "$scratch/tally.txt" ] || fail "no tally report"
    if ! cmp -s "$scratch/tally.txt" "$scratch/result.txt"; then
        fail "the report differs from strata tally's:"
        diff -u "$scratch/tally.txt" "$scratch/result.txt" >&2
    fi
    grep -Fxq "Result:         PASSED as an ordinary matter" "$scratch/out" || fail "not passed"

    start_fake election --election
    election=$addr
    run "election --json" --cluster "$election" vote result 8 --json
    expect_rc 0
    expect_out '{"vote_id":8,"matter":3,"state":"closed","class":"ordinary","total_area":134450,"total_owners":10,"part_area":128950,"part_owners":9,"agree_area":0,"agree_owners":0,"disagree_area":0,"disagree_owners":0,"abstain_area":0,"abstain_owners":0,"quorum":true,"passed":false,"ballot_count":9,"stale":false,"seats":5,"elected":1,"runoff":0,"candidates":[{"candidate":0,"name":"张三","approve_area":84715,"approve_owners":6,"qualified":true,"rank":1,"outcome":"elected"},{"candidate":1,"name":"李四","approve_area":30000,"approve_owners":2,"qualified":false,"rank":0,"outcome":"not_elected"}]}'
    run "election report" --cluster "$election" vote result 8
    expect_rc 0
    grep -Fq "  1. 张三" "$scratch/out" || fail "no ranked candidate: $(cat "$scratch/out")"
    grep -Fq "847.15 m² (65.7%) / 6 owners (66.7%)  elected" "$scratch/out" ||
        fail "no approvals of 张三: $(cat "$scratch/out")"
    grep -Fq "not_elected (not qualified)" "$scratch/out" || fail "李四: $(cat "$scratch/out")"
    # Ballots are checked against the vote before anything is cast.
    run "choice in an election" --cluster "$election" ballot cast 8 --owner O1 --choice agree
    expect_rc 1
    expect_err_has "vote 8 is an election: give --approve NAME..."
    run "unknown candidate" --cluster "$election" ballot cast 8 --owner O1 --approve 王五
    expect_rc 1
    expect_err_has "\"王五\" is not a candidate of vote 8; the candidates: 张三, 李四"
    run "approvals on a matter" --cluster "$votes" ballot cast 7 --owner O1 --approve 张三
    expect_rc 1
    expect_err_has "vote 7 is not an election"
    stop_fakes
    trap - EXIT INT TERM
}

case "$section" in
help | usage | unreachable | keys | fake) "section_$section" ;;
*)
    echo "unknown section $section" >&2
    exit 2
    ;;
esac

if [ "$fails" -gt 0 ]; then
    echo "$section: $fails check(s) failed" >&2
    exit 1
fi
echo "$section: all checks passed"

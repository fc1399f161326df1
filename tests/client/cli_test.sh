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
#   staff        genesis, key add|show|revoke, appoint organiser, cluster register, proxy
#                authorise, audit certify|dispute against a fake node: ids printed, the
#                local checks that come before any call
#   enroll       enroll issue (a code of 4 groups of 5, the letter), redeem (the code as
#                typed), and the lost-phone flow: revoke-request, cosign, submit, with the
#                request file checked at every step
#   audit        audit verify offline: the worked example's signed bundle verifies, and
#                every tamper of tests/client/tamper.c is caught with its file and line
set -u

section=$1
strata=$2
data=$3
scratch=$4
fake_node=$5
tamper=${6:-}

rm -rf "$scratch"
mkdir -p "$scratch"
fails=0
desc=""
rc=0
# No cluster or key from the caller's environment, and no terminal to ask on.
unset STRATA_CLUSTER STRATA_KEY STRATA_PASSPHRASE STRATA_TIMEOUT
# The fake nodes serve plaintext on loopback (TLS has its own test, tests/tls).
unset STRATA_CA STRATA_CERT STRATA_CERT_KEY
export STRATA_PLAINTEXT=1
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

LEAVES="keygen|key show|key add|key revoke|genesis|appoint organiser|community create|community show|roll import|roll show|enroll issue|enroll redeem|enroll revoke-request|enroll cosign|enroll submit|vote create|vote notice|vote open|vote close|vote publish|vote list|vote result|proxy authorise|ballot cast|ballot show|ballot verify|cluster status|cluster add|cluster remove|cluster transfer|cluster register|audit trail|audit export|audit verify|audit certify|audit dispute|tally"
GROUPS="key appoint community roll enroll vote proxy ballot cluster audit"

section_help() {
    run "strata --help" --help
    expect_rc 0
    expect_no_err
    for g in keygen genesis $GROUPS tally; do
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
    run "enroll --help lists its commands" enroll --help
    for s in issue redeem revoke-request cosign submit; do
        grep -q "^  strata enroll $s " "$scratch/out" || fail "enroll $s is not listed"
    done
    run "audit --help lists its commands" audit --help
    for s in trail export verify certify dispute; do
        grep -q "^  strata audit $s " "$scratch/out" || fail "audit $s is not listed"
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
        run "unsigned ballot" ballot cast 1 --choice agree $C
        expect_usage "every ballot is signed: give the owner's key with --key FILE"
        run "paper without scan" ballot cast 1 --owner O1 --choice agree --paper $C
        expect_usage "a paper ballot needs --scan FILE and --owner OWNER_ID"
        run "paper without owner" ballot cast 1 --choice agree --paper --scan x $C
        expect_usage "a paper ballot needs --scan FILE and --owner OWNER_ID"
        run "scan online" ballot cast 1 --choice agree --scan x $C
        expect_usage "--scan and --proxy are for paper ballots (--paper)"
        run "paper proxy is the owner" ballot cast 1 --choice agree --paper --scan x --owner O1 --proxy O1 $C
        expect_usage "the proxy must be another owner than --owner"
        run "unsigned paper" ballot cast 1 --choice agree --paper --scan x --owner O1 $C
        expect_usage "every ballot is signed: give the organiser's key with --key FILE"
        run "show without owner or key" ballot show 1 $C
        expect_usage "--owner is missing (or give the owner's key with --key)"
        run "verify without receipt" ballot verify $C
        expect_usage "RECEIPT is missing"
        run "genesis without keys" genesis --supervisor-pub x $C
        expect_usage "--operator-pub is missing"
        run "genesis bad key" genesis --operator-pub abc --supervisor-pub abc $C
        expect_usage "--operator-pub \"abc\" is not a public key"
        P1=A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=
        P2=03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125532b8
        run "genesis one key twice" genesis --operator-pub $P1 --supervisor-pub 03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8 $C
        expect_usage "two different keys"
        run "genesis unsigned" genesis --operator-pub $P1 --supervisor-pub $P2 $C
        expect_usage "this request is signed: give the key file with --key FILE"
        run "key add role" key add $P1 --role owner $C
        expect_usage "--role \"owner\": an operator adds operator or supervisor keys"
        run "key add no role" key add $P1 $C
        expect_usage "--role is missing"
        run "key revoke bad id" key revoke 12345 $C
        expect_usage "is neither a key id"
        run "appoint bad key" appoint organiser 1 nokey $C
        expect_usage "PUBLIC_KEY \"nokey\" is not a public key"
        run "appoint unsigned" appoint organiser 1 $P1 $C
        expect_usage "this request is signed"
        run "issue bad days" enroll issue 1 O1 --valid-days 0 $C
        expect_usage "--valid-days \"0\" is not a number from 1 to 365"
        run "issue unsigned" enroll issue 1 O1 $C
        expect_usage "this request is signed"
        run "redeem short code" enroll redeem 1 O1 ABCDE-FGHJK $C
        expect_usage "CODE: the code has 10 letters and digits, not 20"
        run "redeem bad character" enroll redeem 1 O1 ABCDE-FGHJK-MNPQR-STVWU $C
        expect_usage "CODE: the code has a character that is not in any code (\"U\")"
        run "redeem without a key" enroll redeem 1 O1 ABCDE-FGHJK-MNPQR-STVWX $C
        expect_usage "this request is signed"
        run "revoke-request without reason" enroll revoke-request 00112233445566778899aabbccddeeff --out f $C
        expect_usage "--reason is missing"
        run "revoke-request without out" enroll revoke-request 00112233445566778899aabbccddeeff --reason lost $C
        expect_usage "--out is missing"
        run "cosign without key" enroll cosign f $C
        expect_usage "the co-signature is the supervisor's"
        run "proxy the same owner" proxy authorise 1 --principal O1 --proxy O1 --document x $C
        expect_usage "two different owners"
        run "proxy without document" proxy authorise 1 --principal O1 --proxy O2 $C
        expect_usage "--document is missing"
        run "register bad id" cluster register 0 $C
        expect_usage "ID \"0\" is not a number"
        run "export without out" audit export 1 $C
        expect_usage "--out is missing"
        run "verify without dir" audit verify
        expect_usage "DIR is missing"
        run "verify threads 0" audit verify d --threads 0
        expect_usage "--threads \"0\" is not a number from 1 to 256"
        run "dispute without reason" audit dispute 1 $C
        expect_usage "--reason is missing"
        run "certify unsigned" audit certify 1 $C
        expect_usage "this request is signed"
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
    "$strata" keygen --out "$scratch/u.key" >/dev/null 2>&1
    for args in "community show 1" "community create --name N --street S" "roll show 1" \
        "vote list 1" "vote result 1" "vote result 1 --stale" "vote open 1" \
        "ballot show 1 --owner O1" "--key $scratch/u.key ballot cast 1 --owner O1 --choice agree" \
        "cluster status" "cluster transfer" "audit trail 1" "roll import 1 $roll" \
        "key show 00112233445566778899aabbccddeeff" "--key $scratch/u.key key revoke 00112233445566778899aabbccddeeff" \
        "--key $scratch/u.key enroll issue 1 O1" "--key $scratch/u.key cluster register 2" \
        "audit export 1 --out $scratch/bundle" "--key $scratch/u.key audit certify 1"; do
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
    "$strata" keygen --out "$scratch/o1.key" >/dev/null 2>&1
    K="--key $scratch/o1.key"
    # shellcheck disable=SC2086
    {
        run "choice in an election" --cluster "$election" $K ballot cast 8 --choice agree
        expect_rc 1
        expect_err_has "vote 8 is an election: give --approve NAME..."
        run "unknown candidate" --cluster "$election" $K ballot cast 8 --owner O1 --approve 王五
        expect_rc 1
        expect_err_has "\"王五\" is not a candidate of vote 8; the candidates: 张三, 李四"
        run "approvals on a matter" --cluster "$votes" $K ballot cast 7 --owner O1 --approve 张三
        expect_rc 1
        expect_err_has "vote 7 is not an election"
    }
    stop_fakes
    trap - EXIT INT TERM
}


section_staff() {
    trap stop_fakes EXIT INT TERM
    start_fake keys --keys
    C="--cluster $addr"
    "$strata" keygen --out "$scratch/op.key" >"$scratch/op.pub" 2>/dev/null
    "$strata" keygen --out "$scratch/sup.key" >"$scratch/sup.pub" 2>/dev/null
    op=$(cat "$scratch/op.pub")
    sup=$(cat "$scratch/sup.pub")
    opid=$("$strata" key show "$scratch/op.key" --json | sed 's/.*"key_id":"\([0-9a-f]*\)".*/\1/')
    supid=$("$strata" key show "$scratch/sup.key" --json | sed 's/.*"key_id":"\([0-9a-f]*\)".*/\1/')
    # shellcheck disable=SC2086
    {
        run "genesis" $C --key "$scratch/op.key" genesis --operator-pub "$op" --supervisor-pub "$sup"
        expect_rc 0
        expect_out "$opid
$supid"
        run "genesis --json" $C --key "$scratch/op.key" genesis --operator-pub "$op" --supervisor-pub "$sup" --json
        expect_out "{\"operator_key_id\":\"$opid\",\"supervisor_key_id\":\"$supid\",\"seq\":7}"
        run "genesis by another key" $C --key "$scratch/sup.key" genesis --operator-pub "$op" --supervisor-pub "$sup"
        expect_rc 1
        expect_err_has "Genesis is signed by the operator key it installs"
        run "key add" $C --key "$scratch/op.key" key add "$sup" --role supervisor --label 张科长
        expect_rc 0
        expect_out "11111111111111111111111111111111"
        run "key add --json" $C --key "$scratch/op.key" key add "$sup" --role supervisor --json
        expect_out '{"key_id":"11111111111111111111111111111111","seq":7}'
        run "key revoke" $C --key "$scratch/op.key" key revoke "$supid" --reason "left the office"
        expect_rc 0
        expect_out "11111111111111111111111111111111"
        run "key show KEY_ID" $C key show "$supid"
        expect_rc 0
        grep -Fq "role:        owner O3 of community 1" "$scratch/out" || fail "no role: $(cat "$scratch/out")"
        grep -Fq "status:      active" "$scratch/out" || fail "no status: $(cat "$scratch/out")"
        run "key show PUBLIC_KEY --json" $C key show "$sup" --json
        expect_rc 0
        grep -Fq "\"key_id\":\"$supid\"" "$scratch/out" || fail "not the key asked: $(cat "$scratch/out")"
        grep -Fq '"role":"owner","community_id":1,"owner_id":"O3"' "$scratch/out" || fail "json: $(cat "$scratch/out")"
        run "key show FILE stays local" key show "$scratch/op.key"
        expect_rc 0
        expect_out "$op"
        run "appoint organiser" $C --key "$scratch/sup.key" appoint organiser 1 "$op" --label 业委会
        expect_rc 0
        expect_out "11111111111111111111111111111111"
        run "cluster register" $C --key "$scratch/op.key" cluster register 1
        expect_rc 0
        grep -Eq "^node 1 registered: key [0-9a-f]{32} \(grpc $addr, raft 127.0.0.1:2\)$" "$scratch/out" ||
            fail "register: $(cat "$scratch/out")"
        run "cluster register an unknown id" $C --key "$scratch/op.key" cluster register 5
        expect_rc 1
        expect_err_has "node 5 is not in the member list"
        printf 'scan of a written authorisation\n' >"$scratch/proxy.pdf"
        run "proxy authorise" $C --key "$scratch/op.key" proxy authorise 7 --principal O5 --proxy O4 --document "$scratch/proxy.pdf"
        expect_rc 0
        expect_out "vote 7: O5 authorised O4 as proxy (document SHA-256 $(sha256sum "$scratch/proxy.pdf" | cut -d' ' -f1))"
        run "proxy document missing" $C --key "$scratch/op.key" proxy authorise 7 --principal O5 --proxy O4 --document "$scratch/none.pdf"
        expect_rc 1
        expect_err_has "cannot open"
        run "certify" $C --key "$scratch/sup.key" audit certify 7
        expect_rc 0
        head -n 1 "$scratch/out" | grep -Fq "vote 7: result certified" || fail "certify: $(cat "$scratch/out")"
        run "dispute --json" $C --key "$scratch/sup.key" audit dispute 7 --reason "O8's paper ballot is missing" --json
        expect_rc 0
        expect_out '{"vote_id":7,"state":"published","reviews":[{"certified":false,"key_id":"11111111111111111111111111111111","time_ms":1700000005000,"reason":"O8'"'"'s paper ballot is missing"}]}'
    }
    stop_fakes
    trap - EXIT INT TERM
}

section_enroll() {
    trap stop_fakes EXIT INT TERM
    start_fake keys --keys
    C="--cluster $addr"
    "$strata" keygen --out "$scratch/org.key" >/dev/null 2>&1
    "$strata" keygen --out "$scratch/sup.key" >/dev/null 2>&1
    "$strata" keygen --out "$scratch/owner.key" >/dev/null 2>&1
    # shellcheck disable=SC2086
    {
        run "issue" $C --key "$scratch/org.key" enroll issue 1 O3
        expect_rc 0
        code=$(cat "$scratch/out")
        echo "$code" | grep -Eq '^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$' ||
            fail "the code \"$code\" is not 4 groups of 5 base32 symbols"
        run "issue again" $C --key "$scratch/org.key" enroll issue 1 O3
        [ "$(cat "$scratch/out")" != "$code" ] || fail "two codes are the same"
        run "issue with a letter" $C --key "$scratch/org.key" enroll issue 1 O3 --letter "$scratch/letter.txt" --json
        expect_rc 0
        grep -Eq '^\{"community_id":1,"owner_id":"O3","code":"[0-9A-Z-]{23}","expires_ms":1701209600000,"code_key_id":"[0-9a-f]{32}","seq":8,"letter":"' "$scratch/out" ||
            fail "json: $(cat "$scratch/out")"
        lcode=$(sed 's/.*"code":"\([^"]*\)".*/\1/' "$scratch/out")
        [ "$(stat -c %a "$scratch/letter.txt")" = 600 ] || fail "letter mode $(stat -c %a "$scratch/letter.txt")"
        grep -Fq "        $lcode" "$scratch/letter.txt" || fail "the letter lacks the code"
        grep -Fq "Owner / 业主:         张*" "$scratch/letter.txt" || fail "the name is not masked: $(cat "$scratch/letter.txt")"
        grep -Fq "张伟" "$scratch/letter.txt" && fail "the letter shows the full name"
        grep -Fq "阳光花园 (community 1)" "$scratch/letter.txt" || fail "no community"
        grep -Fq "Units / 专有部分:     A-201" "$scratch/letter.txt" || fail "no units"
        grep -Fq "2023-11-28T22:13:20Z" "$scratch/letter.txt" || fail "no expiry"
        grep -Fq "strata --key owner.key enroll redeem 1 O3 $lcode" "$scratch/letter.txt" || fail "no instructions"
        run "letter never overwritten" $C --key "$scratch/org.key" enroll issue 1 O3 --letter "$scratch/letter.txt"
        expect_rc 1
        expect_err_has "a letter is never overwritten"
        run "letter for an owner not on the roll" $C --key "$scratch/org.key" enroll issue 1 O42 --letter "$scratch/l2.txt"
        expect_rc 1
        expect_err_has "owner O42 is not on community 1's roll"
        # The code as a person types it: lower case, spaces, O for 0.
        typed=$(echo "$code" | tr 'A-Z-' 'a-z ' | sed 's/0/o/g')
        run "redeem" $C --key "$scratch/owner.key" enroll redeem 1 O3 "$typed"
        expect_rc 0
        expect_out "$("$strata" key show "$scratch/owner.key" --json | sed 's/.*"key_id":"\([0-9a-f]*\)".*/\1/')"

        # Lost phone: organiser, supervisor, organiser.
        victim=00112233445566778899aabbccddeeff
        run "revoke-request" $C --key "$scratch/org.key" enroll revoke-request $victim --reason "lost phone" --out "$scratch/rev.txt"
        expect_rc 0
        expect_out "$scratch/rev.txt"
        expect_err_has "revoke key $victim of owner O3 of community 1 (\"lost phone\")"
        head -n 1 "$scratch/rev.txt" | grep -Fxq "strata-revoke-request-v1" || fail "not a request file"
        grep -q '^supervisor ' "$scratch/rev.txt" && fail "co-signed already"
        run "request never overwritten" $C --key "$scratch/org.key" enroll revoke-request $victim --reason "lost phone" --out "$scratch/rev.txt"
        expect_rc 1
        expect_err_has "never overwritten"
        run "submit before cosign" $C --key "$scratch/org.key" enroll submit "$scratch/rev.txt"
        expect_rc 1
        expect_err_has "the request is not co-signed yet"
        cp "$scratch/rev.txt" "$scratch/rev-changed.txt"
        sed -i 's/^reason lost phone$/reason found again/' "$scratch/rev-changed.txt"
        run "cosign a changed request" --key "$scratch/sup.key" enroll cosign "$scratch/rev-changed.txt"
        expect_rc 1
        expect_err_has "the organiser's signature"
        expect_err_has "does not verify"
        run "cosign by the organiser" --key "$scratch/org.key" enroll cosign "$scratch/rev.txt"
        expect_rc 1
        expect_err_has "must come from another person's key"
        run "cosign" --key "$scratch/sup.key" enroll cosign "$scratch/rev.txt"
        expect_rc 0
        expect_out "$scratch/rev.txt"
        expect_err_has "no cluster given"
        grep -q '^supervisor ' "$scratch/rev.txt" || fail "not co-signed: $(cat "$scratch/rev.txt")"
        run "cosign twice" --key "$scratch/sup.key" enroll cosign "$scratch/rev.txt"
        expect_rc 1
        expect_err_has "co-signed already"
        run "submit by another key" $C --key "$scratch/sup.key" enroll submit "$scratch/rev.txt"
        expect_rc 1
        expect_err_has "the organiser who signed the request submits it"
        run "submit" $C --key "$scratch/org.key" enroll submit "$scratch/rev.txt"
        expect_rc 0
        expect_out "$victim"
        printf 'strata-revoke-request-v1\ncommunity x\n' >"$scratch/bad.txt"
        run "a broken request file" $C --key "$scratch/org.key" enroll submit "$scratch/bad.txt"
        expect_rc 1
        expect_err_has "$scratch/bad.txt:2: bad value after \"community \""
    }
    stop_fakes
    trap - EXIT INT TERM
}

section_audit() {
    b="$scratch/bundle"
    "$tamper" example "$b" || fail "cannot write the example bundle"
    run "verify" audit verify "$b"
    expect_rc 0
    head -n 1 "$scratch/out" | grep -Fq "VERIFIED: audit bundle $b of vote 7" || fail "$(cat "$scratch/out")"
    grep -Fxq "Result:         PASSED as an ordinary matter" "$scratch/out" || fail "no result"
    grep -Fq "Agree:          847.15 m² (65.7%) / 6 owners (66.7%)" "$scratch/out" || fail "no agree line"
    run "verify --json" audit verify "$b" --json --threads 2
    expect_rc 0
    grep -Fq '"verified":true,"file":null,"line":null,"message":null,"vote_id":7,"ballots":10,"voters":9,"keys":9,"nodes":1,"tree_size":10,"total_area":134450,"total_owners":10,"part_area":128950,"part_owners":9,"agree_area":84715,"agree_owners":6' "$scratch/out" ||
        fail "json: $(cat "$scratch/out")"
    # The bundle's ballots.csv is strata tally's input: the supervisor's independent recount.
    run "tally of the bundle" tally --roll "$b/roll.csv" --ballots "$b/ballots.csv" --matter 4 --json
    expect_rc 0
    grep -Fq '"part_area":128950,"part_owners":9,"agree_area":84715,"agree_owners":6' "$scratch/out" || fail "tally: $(cat "$scratch/out")"
    for kind in $("$tamper" list); do
        rm -rf "$scratch/t"
        cp -r "$b" "$scratch/t"
        want=$("$tamper" "$kind" "$scratch/t") || fail "tamper $kind failed"
        file=$(echo "$want" | cut -f1)
        line=$(echo "$want" | cut -f2)
        text=$(echo "$want" | cut -f3)
        where=$file
        [ "$line" = 0 ] || where="$file:$line"
        run "tamper $kind" audit verify "$scratch/t"
        expect_rc 1
        head -n 1 "$scratch/out" | grep -Fq "DISCREPANCY: $where: " || fail "not at $where: $(cat "$scratch/out")"
        grep -Fq -- "$text" "$scratch/out" || fail "lacks \"$text\": $(cat "$scratch/out")"
        expect_err_has "does not verify: the first discrepancy is in $file"
    done
    run "no bundle" audit verify "$scratch/none"
    expect_rc 1
    grep -Fq "DISCREPANCY: MANIFEST: no readable MANIFEST" "$scratch/out" || fail "$(cat "$scratch/out")"
}

case "$section" in
help | usage | unreachable | keys | fake | staff | enroll | audit) "section_$section" ;;
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

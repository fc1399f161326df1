#!/usr/bin/env bash
# walkthrough.sh - DOMAIN.md's worked example, end to end, through the `strata` command
# line only, against a running cluster: every role does its whole job and every step's exit
# status and output is checked. tests/e2e/e2e_test.sh runs it quietly on a cluster of its
# own; deploy/demo.sh runs it with narration on the local cluster.
#
# Environment:
#   STRATA          the strata program (required)
#   STRATA_CLUSTER  the cluster's addresses (required)
#   STRATA_CA       the CA of the nodes' TLS certificates (deploy/demo.sh), or
#   STRATA_PLAINTEXT=1 for nodes serving plaintext on loopback (tests/e2e/e2e_test.sh)
#   WORK            an empty directory for the keys, receipts, letters and the bundle
#   DATA            tests/data (example-roll.csv)
#   NARRATE         1: say what each role does and show each command and its output
#   NODES           nodes to register (default 3)
#   OPERATOR_KEY, SUPERVISOR_KEY
#                   key files of a cluster whose Genesis was sent already (the local
#                   cluster's); unset: the operator makes both keys here, sends Genesis
#                   and registers every node
#   TAMPER          tests/client's bundle_tamper program: every tamper of the exported
#                   bundle must be caught (optional)
#
# At the end WORK/ids names what was made: "community C", "vote V" (matter 4), "vote2 V2"
# (matter 6), "bundle DIR", "bundle2 DIR".
#
# Exit status 0 when every check passed; 1 at the first failure, with what was expected.
set -u

: "${STRATA:?}" "${STRATA_CLUSTER:?}" "${WORK:?}" "${DATA:?}"
export STRATA_CLUSTER
unset STRATA_KEY STRATA_PASSPHRASE
NARRATE=${NARRATE:-0}
NODES=${NODES:-3}
TAMPER=${TAMPER:-}
OUT="$WORK/out"
ERR="$WORK/err"
rc=0
mkdir -p "$WORK/keys" "$WORK/owners" "$WORK/letters"

die() {
    printf '\nwalkthrough: FAILED: %s\n' "$*" >&2
    if [ -s "$ERR" ]; then
        printf 'stderr of the last command:\n' >&2
        sed 's/^/  /' "$ERR" >&2
    fi
    exit 1
}

say() {
    if [ "$NARRATE" = 1 ]; then
        printf '\n\033[1m== %s\033[0m\n' "$*"
    else
        printf 'walkthrough: %s\n' "$*"
    fi
}

note() {
    [ "$NARRATE" = 1 ] && printf '   %s\n' "$*"
    return 0
}

# s WHO ARGS...: runs strata as WHO (a label for the narration); keeps stdout, stderr, status.
s() {
    local who=$1
    shift
    if [ "$NARRATE" = 1 ]; then
        printf '\033[2m[%s]\033[0m $ strata %s\n' "$who" "$*"
    fi
    "$STRATA" "$@" >"$OUT" 2>"$ERR" </dev/null
    rc=$?
    if [ "$NARRATE" = 1 ]; then
        sed 's/^/   /' "$OUT"
        [ "$rc" -eq 0 ] || sed 's/^/   /' "$ERR"
    fi
}

ok() { [ "$rc" -eq 0 ] || die "exit status $rc, expected 0"; }
status() { [ "$rc" -eq "$1" ] || die "exit status $rc, expected $1"; }
has() { grep -Fq -- "$1" "$OUT" || die "the output lacks \"$1\": $(cat "$OUT")"; }
err_has() { grep -Fq -- "$1" "$ERR" || die "stderr lacks \"$1\": $(cat "$ERR")"; }
json_field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$OUT" | head -n 1; }

OWNERS="O1 O2 O3 O4 O5 O6 O7 O8 O9 DEV"
K="$WORK/keys"

# ---- the operator -----------------------------------------------------------------------
if [ -n "${OPERATOR_KEY:-}" ]; then
    say "Operator: the cluster's Genesis was sent when it started; the first keys are registered"
    OP=$OPERATOR_KEY
    SUP=$SUPERVISOR_KEY
    s operator key show "$OP" --json
    ok
    opid=$(json_field key_id)
    s anyone key show "$opid"
    ok
    has "role:        operator"
    s operator cluster status
    ok
    has "members:"
else
    say "Operator: makes the operator key, and the street office its supervisor key"
    OP="$K/operator.key"
    SUP="$K/supervisor.key"
    s operator keygen --out "$OP"
    ok
    oppub=$(cat "$OUT")
    s supervisor keygen --out "$SUP"
    ok
    suppub=$(cat "$OUT")
    say "Operator: sends Genesis (signed by the operator key it installs), once"
    s operator --key "$OP" genesis --operator-pub "$oppub" --supervisor-pub "$suppub" \
        --operator-label "operator" --supervisor-label "某街道办事处"
    ok
    opid=$(sed -n 1p "$OUT")
    [ ${#opid} -eq 32 ] || die "no operator key id: $(cat "$OUT")"
    s operator --key "$OP" genesis --operator-pub "$oppub" --supervisor-pub "$suppub"
    status 1
    note "(a second Genesis is refused: the cluster has its keys)"
    say "Operator: registers every node's tree-head key, read from the node itself"
    for i in $(seq 1 "$NODES"); do
        s operator --key "$OP" cluster register "$i"
        ok
        has "node $i registered: key "
    done
    s operator cluster status
    ok
    [ "$(grep -Ec ' [0-9a-f]{32}$' "$OUT")" -eq "$NODES" ] ||
        die "not every member lists its key: $(cat "$OUT")"
    # Each member's applied index comes from the member itself, never a placeholder 0.
    s operator cluster status --json
    ok
    [ "$(grep -o '"applied_index":[1-9][0-9]*' "$OUT" | wc -l)" -eq "$((NODES + 1))" ] ||
        die "not every member reports its applied index: $(cat "$OUT")"
fi

# ---- the street-office supervisor -------------------------------------------------------
say "Supervisor (街道): registers the community and appoints its organiser"
ORG="$K/organiser.key"
s organiser keygen --out "$ORG"
ok
orgpub=$(cat "$OUT")
s supervisor --key "$SUP" community create --name "阳光花园" --street "某街道" --min-notice-days 0
ok
C=$(cat "$OUT")
case "$C" in '' | *[!0-9]*) die "no community id: $C" ;; esac
s supervisor --key "$SUP" appoint organiser "$C" "$orgpub" --label "阳光花园业主委员会"
ok
s organiser --key "$ORG" appoint organiser "$C" "$orgpub"
status 1
note "(an organiser cannot appoint one: only a supervisor)"

# ---- the organiser ------------------------------------------------------------------------
say "Organiser (业主委员会): imports the roll of DOMAIN.md's worked example"
s organiser --key "$ORG" roll import "$C" "$DATA/example-roll.csv"
ok
has "12 units, 1344.50 m², 10 owners"
s anyone roll show "$C"
ok
has "王**"
say "Organiser: creates the vote on matter 4 (hire a property company), notice 0 days"
s organiser --key "$ORG" vote create "$C" --matter 4 --title "续聘物业服务企业 (hire the property company)" --notice-days 0
ok
V=$(cat "$OUT")
case "$V" in '' | *[!0-9]*) die "no vote id: $V" ;; esac

say "Organiser: issues ten one-time enrollment codes (and a printable letter for O1)"
for o in $OWNERS; do
    if [ "$o" = O1 ]; then
        s organiser --key "$ORG" enroll issue "$C" "$o" --letter "$WORK/letters/$o.txt"
    else
        s organiser --key "$ORG" enroll issue "$C" "$o"
    fi
    ok
    code=$(cat "$OUT")
    echo "$code" | grep -Eq '^[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$' ||
        die "not a code: $code"
    printf '%s\n' "$code" >"$WORK/letters/$o.code"
done
grep -Fq "$(cat "$WORK/letters/O1.code")" "$WORK/letters/O1.txt" || die "the letter lacks the code"
grep -Fq "王**" "$WORK/letters/O1.txt" || die "the letter does not mask the name"

# ---- the owners ---------------------------------------------------------------------------
say "Owners (业主): each device makes its own key and redeems the code with it"
for o in $OWNERS; do
    s "owner $o" keygen --out "$WORK/owners/$o.key"
    ok
    # Typed by a person: lower case, spaces for dashes.
    typed=$(tr 'A-Z-' 'a-z ' <"$WORK/letters/$o.code")
    s "owner $o" --key "$WORK/owners/$o.key" enroll redeem "$C" "$o" "$typed"
    ok
    printf '%s\n' "$(cat "$OUT")" >"$WORK/owners/$o.keyid"
done
s "owner O1" --key "$WORK/owners/O1.key" enroll redeem "$C" O1 "$(cat "$WORK/letters/O1.code")"
status 1
note "(a code works once)"

say "Organiser: gives notice and opens the vote (the roll is frozen now)"
s organiser --key "$ORG" vote notice "$V"
ok
s organiser --key "$ORG" vote open "$V"
ok
has "counting against roll version 1"

say "Owners: O1 O2 O4 O6 O7 O9 agree, O3 and the developer disagree, O5 abstains, O8 does not vote"
cast() { # cast OWNER CHOICE: the receipt's path into $receipt
    s "owner $1" --key "$WORK/owners/$1.key" ballot cast "$V" --choice "$2"
    ok
    has "ballot of $1 recorded"
    receipt=$(sed -n 's/^receipt saved to //p' "$OUT")
    [ -f "$receipt" ] || die "no receipt file for $1: $(cat "$OUT")"
}
cast O1 agree
R1=$receipt
cast O2 agree
cast O3 agree
R3=$receipt
note "(O3 agrees first...)"
cast O4 agree
cast O5 abstain
cast O6 agree
cast O7 agree
cast O9 agree
cast DEV disagree
cast O3 disagree
note "(...and replaces it with disagree before the vote closes: the last ballot counts)"
s "owner O3" --key "$WORK/owners/O3.key" ballot show "$V"
ok
has "(replaced)"
has "disagree  (counts)"
s "owner O1" --key "$WORK/owners/O1.key" ballot cast "$V" --owner O2 --choice disagree
status 1
note "(nobody signs another owner's ballot without a written proxy)"

say "Organiser: closes the vote and publishes the result (公示)"
s organiser --key "$ORG" vote close "$V"
ok
has "with 10 ballots"
s organiser --key "$ORG" vote publish "$V"
ok
s "owner O8" --key "$WORK/owners/O8.key" ballot cast "$V" --choice agree
status 1
note "(after close nothing can be added)"

# ---- a resident, without a key -------------------------------------------------------------
say "Resident (居民, no key): lists the votes and reads the published result"
s resident vote list "$C"
ok
has "published"
s resident vote result "$V"
ok
has "Participating:  1289.50 m² (95.9%) / 9 owners (90.0%) of the totals"
has "Quorum:         met"
has "Agree:          847.15 m² (65.7%) / 6 owners (66.7%) of participating"
has "Result:         PASSED as an ordinary matter"
s resident vote result "$V" --json
ok
has '"total_area":134450,"total_owners":10,"part_area":128950,"part_owners":9,"agree_area":84715,"agree_owners":6,"disagree_area":37710,"disagree_owners":2,"abstain_area":6525,"abstain_owners":1,"quorum":true,"passed":true,"ballot_count":10'
say "Resident: checks O1's receipt against the cluster's signed log"
s resident ballot verify "$R1"
ok
has "counted: the ballot of O1 in vote $V"
s resident ballot verify "$R3"
status 1
has "NOT COUNTED"
has "replaced it"
note "(O3's first ballot is in the log, but replaced: the checker says so)"

# ---- the supervisor audits ------------------------------------------------------------------
say "Supervisor: exports the audit bundle and verifies it offline"
B="$WORK/bundle"
s supervisor audit export "$V" --out "$B"
ok
s supervisor audit verify "$B"
ok
has "VERIFIED: audit bundle $B of vote $V"
has "Agree:          847.15 m² (65.7%) / 6 owners (66.7%) of participating"
has "Result:         PASSED as an ordinary matter"
say "Supervisor: recounts independently with strata tally from the bundle's CSV files"
s supervisor tally --roll "$B/roll.csv" --ballots "$B/ballots.csv" --matter 4
ok
has "Result:         PASSED as an ordinary matter"
has "Ballots:        10 lines from 9 owners (1 replaced by a later line for the same owner)"
if [ -n "$TAMPER" ]; then
    say "Supervisor: every tamper of the bundle is caught (a changed choice, a dropped, moved or repeated ballot, a swapped key, an altered result)"
    for kind in $("$TAMPER" list); do
        rm -rf "$WORK/tampered"
        cp -r "$B" "$WORK/tampered"
        want=$("$TAMPER" "$kind" "$WORK/tampered") || die "cannot tamper: $kind"
        file=$(printf '%s' "$want" | cut -f1)
        line=$(printf '%s' "$want" | cut -f2)
        text=$(printf '%s' "$want" | cut -f3)
        where=$file
        [ "$line" = 0 ] || where="$file:$line"
        s supervisor audit verify "$WORK/tampered"
        status 1
        has "DISCREPANCY: $where: "
        has "$text"
        note "($kind: caught at $where)"
    done
fi
say "Supervisor: certifies the result"
s supervisor --key "$SUP" audit certify "$V"
ok
has "result certified"
s organiser --key "$ORG" audit certify "$V"
status 1
note "(only a supervisor may certify)"
s supervisor audit trail "$C"
ok
has "vote.certify"
has "ballot.cast"

# ---- a special matter, with a paper ballot and a proxy --------------------------------------
say "Organiser: a second vote, on matter 6 (raise the maintenance fund): a special matter"
s organiser --key "$ORG" vote create "$C" --matter 6 --title "筹集维修资金 (raise the maintenance fund)" --notice-days 0
ok
V2=$(cat "$OUT")
s organiser --key "$ORG" vote notice "$V2"
ok
s organiser --key "$ORG" vote open "$V2"
ok
say "Owner O2 authorises O1 in writing (委托) to vote for them; the organiser records it"
printf 'O2 authorises O1 to vote for O2 in vote %s. (scan)\n' "$V2" >"$WORK/letters/proxy-O2.txt"
s organiser --key "$ORG" proxy authorise "$V2" --principal O2 --proxy O1 --document "$WORK/letters/proxy-O2.txt"
ok
has "O2 authorised O1 as proxy"
say "Owners vote as before; O1 also signs O2's ballot as proxy; O5 votes on paper (书面), which the organiser enters with the scan's hash"
cast2() { # cast2 OWNER CHOICE [ARGS...]
    local o=$1 c=$2
    shift 2
    s "owner $o" --key "$WORK/owners/$o.key" ballot cast "$V2" --choice "$c" "$@"
    ok
}
cast2 O1 agree
cast2 O1 agree --owner O2
has "ballot of O2 by proxy O1 recorded"
P2=$(sed -n 's/^receipt saved to //p' "$OUT")
s "owner O3" --key "$WORK/owners/O3.key" ballot cast "$V2" --owner O4 --choice disagree
status 1
note "(O3 holds no authorisation from O4: refused)"
for o in O4 O6 O7 O9; do cast2 "$o" agree; done
cast2 O3 disagree
cast2 DEV disagree
printf 'paper ballot of O5: abstain (scan)\n' >"$WORK/letters/paper-O5.txt"
s organiser --key "$ORG" ballot cast "$V2" --paper --scan "$WORK/letters/paper-O5.txt" --owner O5 --choice abstain
ok
has "paper ballot of O5 recorded"
s "owner O5" --key "$WORK/owners/O5.key" ballot cast "$V2" --paper --scan "$WORK/letters/paper-O5.txt" --owner O5 --choice abstain
status 1
note "(only an organiser enters paper ballots)"
s organiser --key "$ORG" vote close "$V2"
ok
s organiser --key "$ORG" vote publish "$V2"
ok
s resident vote result "$V2"
ok
has "Agree:          847.15 m² (65.7%) / 6 owners (66.7%) of participating"
has "Result:         FAILED as a special matter; failed: the special threshold is not met by area and by owners"
note "(the same ballots pass as an ordinary matter and fail as a special one: 3/4 of both is needed)"
s resident ballot verify "$P2"
ok
has "counted: the ballot of O2 in vote $V2"
say "Supervisor: the second vote's bundle, with its proxy and paper ballots, verifies offline"
s supervisor audit export "$V2" --out "$WORK/bundle2"
ok
s supervisor audit verify "$WORK/bundle2"
ok
has "Result:         FAILED as a special matter"
grep -Fq "organiser" "$WORK/bundle2/keys.txt" || die "keys.txt lacks the organiser who entered the paper ballot"
s supervisor tally --roll "$WORK/bundle2/roll.csv" --ballots "$WORK/bundle2/ballots.csv" --matter 6
ok
has "Result:         FAILED as a special matter"

# ---- a lost phone ------------------------------------------------------------------------------
say "Lost phone: O9's key is revoked by the organiser with the supervisor's co-signature"
o9=$(cat "$WORK/owners/O9.keyid")
s organiser --key "$ORG" enroll revoke-request "$o9" --reason "手机丢失 (lost phone)" --out "$WORK/revoke-O9.txt"
ok
s organiser --key "$ORG" enroll submit "$WORK/revoke-O9.txt"
status 1
note "(not without the supervisor)"
s supervisor --key "$SUP" enroll cosign "$WORK/revoke-O9.txt"
ok
s organiser --key "$ORG" enroll submit "$WORK/revoke-O9.txt"
ok
has "$o9"
s anyone key show "$o9"
ok
has "status:      revoked"
s organiser --key "$ORG" enroll issue "$C" O9
ok
newcode=$(cat "$OUT")
s "owner O9" keygen --out "$WORK/owners/O9-new.key"
ok
s "owner O9" --key "$WORK/owners/O9-new.key" enroll redeem "$C" O9 "$newcode"
ok
note "(O9's new phone is enrolled with a new code)"
say "Ballots signed before the revocation stay valid: the result and the audit are unchanged"
s resident vote result "$V" --json
ok
has '"part_area":128950,"part_owners":9,"agree_area":84715,"agree_owners":6'
s supervisor audit export "$V" --out "$WORK/bundle-after"
ok
s supervisor audit verify "$WORK/bundle-after"
ok
has "VERIFIED"
grep -F "$o9" "$WORK/bundle-after/keys.txt" | grep -Eqv '	0$' || die "keys.txt does not show O9's revocation"

printf 'community %s\nvote %s\nvote2 %s\nbundle %s\nbundle2 %s\n' "$C" "$V" "$V2" "$B" \
    "$WORK/bundle2" >"$WORK/ids"
say "Done: DOMAIN.md's worked example, end to end: part 1289.50 m² / 9 owners, agree 847.15 m² / 6 owners, quorum met: PASSED as an ordinary matter (vote $V), FAILED as a special matter (vote $V2)"
exit 0

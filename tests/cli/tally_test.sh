#!/bin/sh
# tally_test.sh - runs the built `strata` program and asserts its exact output, exit
# status and messages. One section per ctest test:
#
#   sh tally_test.sh SECTION STRATA DATA_DIR SCRATCH_DIR VERSION CMAKE BUILD_DIR
#
# SECTION: json | report | edge | errors | usage | install
# The figures are those of DOMAIN.md's worked example and edge cases.
set -u

section=$1
strata=$2
data=$3
scratch=$4
version=${5:-}
cmake=${6:-cmake}
build=${7:-}

rm -rf "$scratch"
mkdir -p "$scratch"
fails=0
desc=""
rc=0

fail() {
    printf 'FAIL: %s: %s\n' "$desc" "$*" >&2
    fails=$((fails + 1))
}

# run DESCRIPTION ARGS... : runs strata, keeps stdout, stderr and the exit status.
run() {
    desc=$1
    shift
    "$strata" "$@" >"$scratch/out" 2>"$scratch/err"
    rc=$?
}

expect_rc() {
    [ "$rc" -eq "$1" ] || fail "exit status $rc, expected $1 (stderr: $(cat "$scratch/err"))"
}

# expect_out TEXT: stdout is exactly TEXT and a newline.
expect_out() {
    printf '%s\n' "$1" >"$scratch/want"
    if ! cmp -s "$scratch/want" "$scratch/out"; then
        fail "stdout differs (- expected, + got):"
        diff -u "$scratch/want" "$scratch/out" >&2
    fi
}

expect_err() {
    printf '%s\n' "$1" >"$scratch/want"
    if ! cmp -s "$scratch/want" "$scratch/err"; then
        fail "stderr differs (- expected, + got):"
        diff -u "$scratch/want" "$scratch/err" >&2
    fi
}

expect_no_out() {
    [ ! -s "$scratch/out" ] || fail "stdout should be empty but is: $(cat "$scratch/out")"
}

expect_no_err() {
    [ ! -s "$scratch/err" ] || fail "stderr should be empty but is: $(cat "$scratch/err")"
}

# expect_line TEXT: some line of stdout is exactly TEXT.
expect_line() {
    grep -Fqx -- "$1" "$scratch/out" || fail "no stdout line: $1"
}

# A bad-input case: exit 1, nothing on stdout, exactly one line on stderr.
expect_bad_input() {
    expect_rc 1
    expect_no_out
    expect_err "$1"
}

# A usage error: exit 2, nothing on stdout, the message and the usage line on stderr.
USAGE='usage: strata tally --roll ROLL.csv --ballots BALLOTS.csv (--class ordinary|special | --matter 1-9) [--json]'
expect_usage_error() {
    expect_rc 2
    expect_no_out
    expect_err "strata tally: $1
$USAGE"
}

roll="$data/example-roll.csv"
ballots="$data/example-ballots.csv"
# The worked example: participation, agree, disagree, abstain (DOMAIN.md; disagree is
# O3 8950 + the developer 2 x 14380 = 37710).
EXAMPLE='"total_area":134450,"total_owners":10,"part_area":128950,"part_owners":9,"agree_area":84715,"agree_owners":6,"disagree_area":37710,"disagree_owners":2,"abstain_area":6525,"abstain_owners":1'
EXAMPLE_ORDINARY="{\"class\":\"ordinary\",$EXAMPLE,\"quorum\":true,\"passed\":true}"
EXAMPLE_SPECIAL="{\"class\":\"special\",$EXAMPLE,\"quorum\":true,\"passed\":false}"

section_json() {
    run "example, ordinary, --json" tally --roll "$roll" --ballots "$ballots" --class ordinary --json
    expect_rc 0
    expect_out "$EXAMPLE_ORDINARY"
    expect_no_err

    run "example, special, --json" tally --json --class special --roll "$roll" --ballots "$ballots"
    expect_rc 0
    expect_out "$EXAMPLE_SPECIAL"
    expect_no_err

    run "example, --opt=value forms" tally --roll="$roll" --ballots="$ballots" --class=special --json
    expect_rc 0
    expect_out "$EXAMPLE_SPECIAL"

    # --matter maps through the class of each art. 278 matter.
    for m in 1 2 3 4 5 9; do
        run "example, --matter $m" tally --roll "$roll" --ballots "$ballots" --matter "$m" --json
        expect_rc 0
        expect_out "$EXAMPLE_ORDINARY"
    done
    for m in 6 7 8; do
        run "example, --matter $m" tally --roll "$roll" --ballots "$ballots" --matter "$m" --json
        expect_rc 0
        expect_out "$EXAMPLE_SPECIAL"
    done

    # The same ballots written with Chinese choices count the same.
    run "ballots in Chinese" tally --roll "$roll" --ballots "$data/example-ballots-zh.csv" --class ordinary --json
    expect_rc 0
    expect_out "$EXAMPLE_ORDINARY"

    # A later line for an owner replaces the earlier one: O3 agree -> disagree and
    # O5 disagree -> abstain give the example's count; counting the first lines would give
    # agree 93665 / 7 owners and no abstention.
    run "later ballot replaces earlier" tally --roll "$roll" --ballots "$data/example-ballots-replaced.csv" --class ordinary --json
    expect_rc 0
    expect_out "$EXAMPLE_ORDINARY"

    # Replacing one ballot changes the count by exactly that owner.
    { cat "$ballots"; echo "O7,disagree"; } >"$scratch/o7.csv"
    run "O7 changes to disagree" tally --roll "$roll" --ballots "$scratch/o7.csv" --class ordinary --json
    expect_rc 0
    expect_out '{"class":"ordinary","total_area":134450,"total_owners":10,"part_area":128950,"part_owners":9,"agree_area":63715,"agree_owners":5,"disagree_area":58710,"disagree_owners":3,"abstain_area":6525,"abstain_owners":1,"quorum":true,"passed":false}'

    # The example as a spreadsheet in China exports it: BOM, CRLF, quoted fields.
    { printf '\357\273\277'; sed -e 's/^/"/' -e 's/,/","/g' -e 's/$/"\r/' "$roll"; } >"$scratch/roll-bom-crlf.csv"
    { printf '\357\273\277'; sed -e 's/$/\r/' "$ballots"; printf '\r\n'; } >"$scratch/ballots-bom-crlf.csv"
    run "BOM, CRLF, quotes" tally --roll "$scratch/roll-bom-crlf.csv" --ballots "$scratch/ballots-bom-crlf.csv" --class ordinary --json
    expect_rc 0
    expect_out "$EXAMPLE_ORDINARY"

    # A header with no ballots: nobody took part, no quorum.
    run "nobody voted" tally --roll "$roll" --ballots "$data/ballots-header-only.csv" --class ordinary --json
    expect_rc 0
    expect_out '{"class":"ordinary","total_area":134450,"total_owners":10,"part_area":0,"part_owners":0,"agree_area":0,"agree_owners":0,"disagree_area":0,"disagree_owners":0,"abstain_area":0,"abstain_owners":0,"quorum":false,"passed":false}'
}

section_report() {
    run "example, ordinary, report" tally --roll "$roll" --ballots "$ballots" --class ordinary
    expect_rc 0
    expect_no_err
    expect_out "Strata tally: independent recount of an ordinary matter
  roll:     $roll
  ballots:  $ballots

Roll:           12 units; total 1344.50 m² / 10 owners (area 134450 in 1/100 m²)
Ballots:        9 lines from 9 owners (0 replaced by a later line for the same owner)
Participating:  1289.50 m² (95.9%) / 9 owners (90.0%) of the totals
Not voting:     55.00 m² (4.1%) / 1 owner (10.0%) of the totals
Quorum:         met; rule: at least 2/3 of the total area and at least 2/3 of the owners take part
                area:   3*128950 = 386850 >= 2*134450 = 268900, met
                owners: 3*9 = 27 >= 2*10 = 20, met
Agree:          847.15 m² (65.7%) / 6 owners (66.7%) of participating
Disagree:       377.10 m² (29.2%) / 2 owners (22.2%) of participating
Abstain:        65.25 m² (5.1%) / 1 owner (11.1%) of participating
Threshold:      ordinary; rule: more than half of participating area and owners agree, exactly half fails
                area:   2*84715 = 169430 > 128950, met
                owners: 2*6 = 12 > 9, met
Result:         PASSED as an ordinary matter"

    run "example, special, report" tally --roll "$roll" --ballots "$ballots" --class special
    expect_rc 0
    expect_no_err
    expect_line "Strata tally: independent recount of a special matter"
    expect_line "Roll:           12 units; total 1344.50 m² / 10 owners (area 134450 in 1/100 m²)"
    expect_line "Participating:  1289.50 m² (95.9%) / 9 owners (90.0%) of the totals"
    expect_line "Quorum:         met; rule: at least 2/3 of the total area and at least 2/3 of the owners take part"
    expect_line "Agree:          847.15 m² (65.7%) / 6 owners (66.7%) of participating"
    expect_line "Threshold:      special; rule: at least 3/4 of participating area and owners agree, exactly 3/4 passes"
    expect_line "                area:   4*84715 = 338860 >= 3*128950 = 386850, not met"
    expect_line "                owners: 4*6 = 24 >= 3*9 = 27, not met"
    expect_line "Result:         FAILED as a special matter; failed: the special threshold is not met by area and by owners"
    grep -q PASSED "$scratch/out" && fail "a failed matter's report says PASSED"

    run "example, --matter 6, report" tally --roll "$roll" --ballots "$ballots" --matter 6
    expect_rc 0
    expect_line "Strata tally: independent recount of matter 6 (raise the maintenance fund, 筹集建筑物及其附属设施的维修资金), a special matter"
    expect_line "Result:         FAILED as a special matter; failed: the special threshold is not met by area and by owners"

    run "replaced ballots, report" tally --roll "$roll" --ballots "$data/example-ballots-replaced.csv" --class ordinary
    expect_rc 0
    expect_line "Ballots:        12 lines from 9 owners (3 replaced by a later line for the same owner)"
    expect_line "Agree:          847.15 m² (65.7%) / 6 owners (66.7%) of participating"

    run "nobody voted, report" tally --roll "$roll" --ballots "$data/ballots-header-only.csv" --class ordinary
    expect_rc 0
    expect_line "Participating:  0.00 m² (0.0%) / 0 owners (0.0%) of the totals"
    expect_line "Agree:          0.00 m² (-) / 0 owners (-) of participating"
    expect_line "Result:         FAILED as an ordinary matter; failed: no quorum (a matter without quorum fails whatever the split)"
}

# Six owners of 100.00 m² each (DOMAIN.md).
section_edge() {
    er="$data/edge-roll.csv"
    base='"total_area":60000,"total_owners":6'

    # 4 of 6 take part: exactly 2/3, quorum met. 2 of the 4 agree: exactly half, so an
    # ordinary matter fails (and a special one too).
    for cls in ordinary special; do
        run "edge: 4 take part, 2 agree, $cls" tally --roll "$er" --ballots "$data/edge-ballots-4-half.csv" --class $cls --json
        expect_rc 0
        expect_out "{\"class\":\"$cls\",$base,\"part_area\":40000,\"part_owners\":4,\"agree_area\":20000,\"agree_owners\":2,\"disagree_area\":10000,\"disagree_owners\":1,\"abstain_area\":10000,\"abstain_owners\":1,\"quorum\":true,\"passed\":false}"
    done
    run "edge: 2 of 4 agree, report" tally --roll "$er" --ballots "$data/edge-ballots-4-half.csv" --class ordinary
    expect_line "Quorum:         met; rule: at least 2/3 of the total area and at least 2/3 of the owners take part"
    expect_line "                area:   3*40000 = 120000 >= 2*60000 = 120000, met"
    expect_line "                owners: 3*4 = 12 >= 2*6 = 12, met"
    expect_line "                area:   2*20000 = 40000 > 40000, not met"
    expect_line "                owners: 2*2 = 4 > 4, not met"
    expect_line "Result:         FAILED as an ordinary matter; failed: the ordinary threshold is not met by area and by owners"

    # 3 of the 4 agree: exactly 3/4, so a special matter passes (an ordinary one too).
    for cls in ordinary special; do
        run "edge: 4 take part, 3 agree, $cls" tally --roll "$er" --ballots "$data/edge-ballots-4-three.csv" --class $cls --json
        expect_rc 0
        expect_out "{\"class\":\"$cls\",$base,\"part_area\":40000,\"part_owners\":4,\"agree_area\":30000,\"agree_owners\":3,\"disagree_area\":10000,\"disagree_owners\":1,\"abstain_area\":0,\"abstain_owners\":0,\"quorum\":true,\"passed\":true}"
    done
    run "edge: 3 of 4 agree, special, report" tally --roll "$er" --ballots "$data/edge-ballots-4-three.csv" --class special
    expect_line "                area:   4*30000 = 120000 >= 3*40000 = 120000, met"
    expect_line "                owners: 4*3 = 12 >= 3*4 = 12, met"
    expect_line "Result:         PASSED as a special matter"

    # Area and head count are both needed: one large owner against two small ones.
    s=$scratch
    printf 'unit,building,area_centi_m2,owner_id,owner_name,status\nX-1,X,10000,X1,甲,owned\nX-2,X,1000,X2,乙,owned\nX-3,X,1000,X3,丙,owned\n' >"$s/xroll.csv"
    printf 'owner_id,choice\nX1,agree\nX2,disagree\nX3,disagree\n' >"$s/big-agrees.csv"
    printf 'owner_id,choice\nX1,disagree\nX2,agree\nX3,agree\n' >"$s/small-agree.csv"
    run "area yes, owners no" tally --roll "$s/xroll.csv" --ballots "$s/big-agrees.csv" --class ordinary
    expect_rc 0
    expect_line "Agree:          100.00 m² (83.3%) / 1 owner (33.3%) of participating"
    expect_line "Result:         FAILED as an ordinary matter; failed: the ordinary threshold is not met by owners"
    run "owners yes, area no" tally --roll "$s/xroll.csv" --ballots "$s/small-agree.csv" --class ordinary
    expect_rc 0
    expect_line "Agree:          20.00 m² (16.7%) / 2 owners (66.7%) of participating"
    expect_line "Result:         FAILED as an ordinary matter; failed: the ordinary threshold is not met by area"
    run "owners yes, area no, json" tally --roll "$s/xroll.csv" --ballots "$s/small-agree.csv" --class ordinary --json
    expect_out '{"class":"ordinary","total_area":12000,"total_owners":3,"part_area":12000,"part_owners":3,"agree_area":2000,"agree_owners":2,"disagree_area":10000,"disagree_owners":1,"abstain_area":0,"abstain_owners":0,"quorum":true,"passed":false}'

    # Only 3 take part: below 2/3, quorum fails although all 3 agree.
    for cls in ordinary special; do
        run "edge: 3 take part, $cls" tally --roll "$er" --ballots "$data/edge-ballots-3.csv" --class $cls --json
        expect_rc 0
        expect_out "{\"class\":\"$cls\",$base,\"part_area\":30000,\"part_owners\":3,\"agree_area\":30000,\"agree_owners\":3,\"disagree_area\":0,\"disagree_owners\":0,\"abstain_area\":0,\"abstain_owners\":0,\"quorum\":false,\"passed\":false}"
    done
    run "edge: 3 take part, report" tally --roll "$er" --ballots "$data/edge-ballots-3.csv" --class special
    expect_rc 0
    expect_line "Participating:  300.00 m² (50.0%) / 3 owners (50.0%) of the totals"
    expect_line "Quorum:         not met; rule: at least 2/3 of the total area and at least 2/3 of the owners take part"
    expect_line "                area:   3*30000 = 90000 >= 2*60000 = 120000, not met"
    expect_line "Result:         FAILED as a special matter; failed: no quorum (a matter without quorum fails whatever the split)"
}

section_errors() {
    hint='give the area in hundredths of a square metre (89.50 m² = 8950)'
    p="strata tally: $data"

    run "roll: bad header" tally --roll "$data/bad-roll-header.csv" --ballots "$ballots" --class ordinary
    expect_bad_input "$p/bad-roll-header.csv:1: header column 3 is \"area\" but must be \"area_centi_m2\"; the first line must be exactly unit,building,area_centi_m2,owner_id,owner_name,status"

    run "roll: area not whole" tally --roll "$data/bad-roll-area-decimal.csv" --ballots "$ballots" --class ordinary --json
    expect_bad_input "$p/bad-roll-area-decimal.csv:3: area_centi_m2 \"89.5\" is not a whole number; $hint"

    run "roll: area zero" tally --roll "$data/bad-roll-area-zero.csv" --ballots "$ballots" --class ordinary
    expect_bad_input "$p/bad-roll-area-zero.csv:4: area_centi_m2 is 0; every unit has a floor area of at least 1 (0.01 m²); $hint"

    run "roll: area negative" tally --roll "$data/bad-roll-area-negative.csv" --ballots "$ballots" --class ordinary
    expect_bad_input "$p/bad-roll-area-negative.csv:6: area_centi_m2 \"-6525\" is negative; $hint, a whole number from 1 to 1000000000"

    run "roll: duplicate unit" tally --roll "$data/bad-roll-duplicate-unit.csv" --ballots "$ballots" --class ordinary
    expect_bad_input "$p/bad-roll-duplicate-unit.csv:5: unit A-101 appears twice (first on line 2); give each unit one line"

    run "roll: unknown status" tally --roll "$data/bad-roll-status.csv" --ballots "$ballots" --class ordinary
    expect_bad_input "$p/bad-roll-status.csv:7: status \"sold\" is not known; use owned (sold and delivered) or developer_unsold (not yet sold or delivered)"

    run "roll: missing field" tally --roll "$data/bad-roll-fields.csv" --ballots "$ballots" --class ordinary
    expect_bad_input "$p/bad-roll-fields.csv:4: 5 fields where 6 are expected (as on line 1); check for a missing or extra comma, and put a field that contains a comma in quotes"

    run "roll: unterminated quote" tally --roll "$data/bad-roll-quote.csv" --ballots "$ballots" --class ordinary
    expect_bad_input "$p/bad-roll-quote.csv:3: the quote that opens field 5 at column 18 is never closed; close it with \" (a quote inside a quoted field is written \"\")"

    run "ballots: unknown owner" tally --roll "$roll" --ballots "$data/bad-ballots-owner.csv" --class ordinary
    expect_bad_input "$p/bad-ballots-owner.csv:4: owner_id \"O10\" is not an owner on the roll; check it against the owner_id column of the roll"

    run "ballots: unknown choice" tally --roll "$roll" --ballots "$data/bad-ballots-choice.csv" --class ordinary --json
    expect_bad_input "$p/bad-ballots-choice.csv:3: choice \"yes\" is not known; use agree, disagree or abstain (同意, 反对, 弃权)"

    run "ballots: bad header" tally --roll "$roll" --ballots "$data/bad-ballots-header.csv" --class ordinary
    expect_bad_input "$p/bad-ballots-header.csv:1: header column 1 is \"owner\" but must be \"owner_id\"; the first line must be exactly owner_id,choice"

    # Files made here: encodings and bytes an editor might not keep.
    s=$scratch
    { head -n 3 "$roll"; printf 'A-201,A,8950,O3,\315\365\316\260,owned\n'; } >"$s/roll-gbk.csv"
    run "roll: GBK, not UTF-8" tally --roll "$s/roll-gbk.csv" --ballots "$ballots" --class ordinary
    expect_bad_input "strata tally: $s/roll-gbk.csv:4: byte 0xCD at column 17 (field 5) is not UTF-8; save the file as CSV UTF-8 (GBK and other encodings are not accepted)"

    { head -n 2 "$roll"; printf 'A-102,A,12000,O2,x\000y,owned\n'; } >"$s/roll-nul.csv"
    run "roll: NUL byte" tally --roll "$s/roll-nul.csv" --ballots "$ballots" --class ordinary
    expect_bad_input "strata tally: $s/roll-nul.csv:3: a NUL byte at column 19 (field 5); this is not a text file - export the sheet again as CSV UTF-8"

    { cat "$ballots"; printf 'O8,\345\220\n'; } >"$s/ballots-bad-utf8.csv"
    run "ballots: truncated UTF-8" tally --roll "$roll" --ballots "$s/ballots-bad-utf8.csv" --class ordinary
    expect_bad_input "strata tally: $s/ballots-bad-utf8.csv:11: byte 0xE5 at column 4 (field 2) is not UTF-8; save the file as CSV UTF-8 (GBK and other encodings are not accepted)"

    : >"$s/empty.csv"
    run "roll: empty file" tally --roll "$s/empty.csv" --ballots "$ballots" --class ordinary
    expect_bad_input "strata tally: $s/empty.csv:1: the file is empty; a roll file starts with the header line unit,building,area_centi_m2,owner_id,owner_name,status"

    run "ballots: empty file" tally --roll "$roll" --ballots "$s/empty.csv" --class ordinary
    expect_bad_input "strata tally: $s/empty.csv:1: the file is empty; a ballots file starts with the header line owner_id,choice"

    head -n 1 "$roll" >"$s/header-only.csv"
    run "roll: header only" tally --roll "$s/header-only.csv" --ballots "$ballots" --class ordinary
    expect_bad_input "strata tally: $s/header-only.csv:1: the roll has no units; add one line per unit below the header"

    # A refused multi-line field is reported at the line it starts on.
    { printf 'owner_id,choice\n"O1",agree\n"O2","agree"\nO3,"dis\nagree"\nO4,maybe\n'; } >"$s/ballots-multiline.csv"
    run "ballots: multi-line field" tally --roll "$roll" --ballots "$s/ballots-multiline.csv" --class ordinary
    expect_bad_input "strata tally: $s/ballots-multiline.csv:4: choice \"dis\\x0aagree\" is not known; use agree, disagree or abstain (同意, 反对, 弃权)"

    { printf 'owner_id,choice\nO1,"agree"\n"O2","agree"\n\nO4,maybe\n'; } >"$s/ballots-line5.csv"
    run "ballots: line counted past blank lines" tally --roll "$roll" --ballots "$s/ballots-line5.csv" --class ordinary
    expect_bad_input "strata tally: $s/ballots-line5.csv:5: choice \"maybe\" is not known; use agree, disagree or abstain (同意, 反对, 弃权)"

    run "roll: missing file" tally --roll "$s/no-such-roll.csv" --ballots "$ballots" --class ordinary
    expect_bad_input "strata tally: $s/no-such-roll.csv: cannot open: No such file or directory; check the path"

    run "ballots: missing file" tally --roll "$roll" --ballots "$s/no-such-ballots.csv" --class special --json
    expect_bad_input "strata tally: $s/no-such-ballots.csv: cannot open: No such file or directory; check the path"

    run "roll: a directory" tally --roll "$data" --ballots "$ballots" --class ordinary
    expect_bad_input "strata tally: $data: is a directory; give the path of a CSV file"

    cp "$roll" "$s/unreadable.csv"
    chmod 000 "$s/unreadable.csv"
    if [ "$(id -u)" -ne 0 ]; then
        run "roll: unreadable" tally --roll "$s/unreadable.csv" --ballots "$ballots" --class ordinary
        expect_bad_input "strata tally: $s/unreadable.csv: cannot open: Permission denied; check the file's permissions"
    else
        echo "note: running as root, the unreadable-file case cannot be made; skipped"
    fi

    # The roll and ballots swapped: the header says which file is which.
    run "files swapped" tally --roll "$ballots" --ballots "$roll" --class ordinary
    expect_bad_input "strata tally: $ballots:1: header column 1 is \"owner_id\" but must be \"unit\"; the first line must be exactly unit,building,area_centi_m2,owner_id,owner_name,status"

    # Output that cannot be written is a failure, not a silent success.
    if [ -w /dev/full ]; then
        desc="stdout is full"
        "$strata" tally --roll "$roll" --ballots "$ballots" --class ordinary --json >/dev/full 2>"$scratch/err"
        rc=$?
        expect_rc 1
        grep -q '^strata: cannot write the output' "$scratch/err" || fail "no write error message: $(cat "$scratch/err")"
    fi
}

section_usage() {
    r="$roll"
    b="$ballots"
    run "no flags" tally
    expect_usage_error "--roll is missing"
    run "no --ballots" tally --roll "$r" --class ordinary
    expect_usage_error "--ballots is missing"
    run "no --class" tally --roll "$r" --ballots "$b"
    expect_usage_error "--class or --matter is missing"
    run "unknown option" tally --roll "$r" --ballots "$b" --class ordinary --verbose
    expect_usage_error "unknown option \"--verbose\""
    run "stray argument" tally --roll "$r" --ballots "$b" --class ordinary extra.csv
    expect_usage_error "unexpected argument \"extra.csv\""
    run "bad class" tally --roll "$r" --ballots "$b" --class extraordinary
    expect_usage_error "--class \"extraordinary\" is not known; use ordinary or special"
    run "class in capitals" tally --roll "$r" --ballots "$b" --class Special
    expect_usage_error "--class \"Special\" is not known; use ordinary or special"
    for m in 0 10 06 abc -1 " 6" ""; do
        run "bad matter '$m'" tally --roll "$r" --ballots "$b" --matter "$m"
        if [ -z "$m" ]; then
            expect_usage_error "--matter needs a value"
        else
            expect_usage_error "--matter \"$m\" is not a matter; use a number from 1 to 9"
        fi
    done
    run "class and matter" tally --roll "$r" --ballots "$b" --class ordinary --matter 4
    expect_usage_error "give --class or --matter, not both"
    run "value missing at the end" tally --ballots "$b" --class ordinary --roll
    expect_usage_error "--roll needs a value"
    run "empty value" tally --roll= --ballots "$b" --class ordinary
    expect_usage_error "--roll needs a value"
    run "option twice" tally --roll "$r" --roll "$r" --ballots "$b" --class ordinary
    expect_usage_error "--roll is given twice"
    # A usage error is found before any file is read.
    run "usage before files" tally --roll /no/such --ballots /no/such --class bogus
    expect_usage_error "--class \"bogus\" is not known; use ordinary or special"

    run "no command" 
    expect_rc 2
    expect_no_out
    head -n 1 "$scratch/err" | grep -Fqx 'usage: strata COMMAND [ARGS...]' || fail "no usage line: $(cat "$scratch/err")"
    run "unknown command" frobnicate
    expect_rc 2
    expect_no_out
    head -n 1 "$scratch/err" | grep -Fqx 'strata: unknown command "frobnicate"' || fail "stderr: $(cat "$scratch/err")"

    run "--help" --help
    expect_rc 0
    expect_no_err
    expect_line "usage: strata COMMAND [ARGS...]"
    grep -Eq '^  tally +recount a vote' "$scratch/out" || fail "tally is not listed"
    run "tally --help" tally --help
    expect_rc 0
    expect_no_err
    head -n 1 "$scratch/out" >"$scratch/first"
    printf '%s\n' "$USAGE" | cmp -s - "$scratch/first" || fail "first line is not the usage: $(cat "$scratch/first")"
    expect_line "  --json           print one JSON object on one line instead of the report"
    cp "$scratch/out" "$scratch/help1"
    run "help tally" help tally
    expect_rc 0
    cmp -s "$scratch/help1" "$scratch/out" || fail "help tally differs from tally --help"
    run "--help wins over bad options" tally --class bogus --help
    expect_rc 0
    cmp -s "$scratch/help1" "$scratch/out" || fail "differs from tally --help"
    run "--version" --version
    expect_rc 0
    expect_out "strata $version"
}

section_install() {
    prefix="$scratch/prefix"
    desc="cmake --install"
    "$cmake" --install "$build" --prefix "$prefix" --component strata_cli >"$scratch/install.log" 2>&1 ||
        fail "install failed: $(cat "$scratch/install.log")"
    [ -x "$prefix/bin/strata" ] || fail "no executable $prefix/bin/strata"
    strata="$prefix/bin/strata"
    run "installed strata --version" --version
    expect_rc 0
    expect_out "strata $version"
    run "installed strata tally" tally --roll "$roll" --ballots "$ballots" --class ordinary --json
    expect_rc 0
    expect_out "$EXAMPLE_ORDINARY"
}

case "$section" in
json | report | edge | errors | usage | install) "section_$section" ;;
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

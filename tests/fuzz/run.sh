#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS_PER_TARGET] - build the libFuzzer targets with clang in
# build-fuzz/ and run each for a bounded time (default 20 s), starting from the seed corpus
# in tests/fuzz/corpus/<target>/ (read only: new inputs go to build-fuzz/fuzz-corpus/).
# Prints per target the number of executions; exits non-zero if any target crashed or
# broke a property (the crashing input is kept as build-fuzz/fuzz-crash-<target>-*).
set -u
secs="${1:-20}"
case "$secs" in '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;; esac
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/build-fuzz"

mkdir -p "$build"
CC=clang cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DSTRATA_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/fuzz-configure.log" 2>&1 ||
    { cat "$build/fuzz-configure.log"; echo "fuzz: configure failed" >&2; exit 1; }
cmake --build "$build" --target st_fuzz_all -j2 >"$build/fuzz-build.log" 2>&1 ||
    { tail -40 "$build/fuzz-build.log"; echo "fuzz: build failed" >&2; exit 1; }

failed=0
total=0
for corpus in "$here"/corpus/*/; do
    t="$(basename "$corpus")"
    bin="$build/tests/fuzz/fuzz_$t"
    [ -x "$bin" ] || { echo "fuzz_$t: no such target" >&2; failed=1; continue; }
    work="$build/fuzz-corpus/$t"
    log="$build/fuzz-$t.log"
    mkdir -p "$work"
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/fuzz-crash-$t-" "$work" "$corpus" >"$log" 2>&1
    rc=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1)"
    if [ "$rc" -ne 0 ]; then
        failed=1
        printf '%-16s FAILED (exit %d) after %s executions; see %s\n' "fuzz_$t" "$rc" \
            "${execs:-?}" "$log"
        grep -E 'ERROR|property failed|SUMMARY' "$log" | head -5
    else
        printf '%-16s %10s executions in %ss (%s)\n' "fuzz_$t" "${execs:-?}" "$secs" "${cov:-cov: ?}"
        total=$((total + ${execs:-0}))
    fi
done
echo "fuzz: $total executions in total"
exit "$failed"

#!/usr/bin/env bash
# run.sh - builds Strata and runs every test: the formatting check, the normal build
# under ctest, static analysis (cppcheck), the libFuzzer targets for a bounded time, and
# the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
# `.ci/run` calls exactly this.
#   FUZZ_SECONDS=N  seconds per fuzz target (default 15; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

deploy/install-deps.sh

echo "== format check (clang-format)"
git ls-files '*.c' '*.h' | xargs -r clang-format --dry-run --Werror

echo "== build (RelWithDebInfo) and test"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" | tee build/ctest.out

echo "== static analysis (cppcheck)"
# unreadVariable: protobuf-c messages are filled field by field and packed through
# &msg.base, which cppcheck cannot follow. The version macros come from protobuf-c.h.
cppcheck -q --enable=warning,portability --inline-suppr --error-exitcode=1 \
  -I . -I build --suppress=missingIncludeSystem --suppress=unreadVariable \
  -DPROTOBUF_C_VERSION_NUMBER=1004001 -DPROTOBUF_C_MIN_COMPILER_VERSION=1000000 \
  core crypto consensus server client tests

if [ "${FUZZ_SECONDS:-15}" != 0 ] && [ -x tests/fuzz/run.sh ]; then
  echo "== fuzz (${FUZZ_SECONDS:-15} s per target)"
  tests/fuzz/run.sh "${FUZZ_SECONDS:-15}" | tee build/fuzz.out
fi

echo "== build with ASan+UBSan and test"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSTRATA_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" | tee build-asan/ctest.out

# The figures the fault, hostile-client, fuzz and benchmark smoke tests printed (each test
# prints lines starting with "figure: "), then both ctest summaries once more.
echo "== figures"
for b in build build-asan; do
  grep -h '^figure: ' "$b/Testing/Temporary/LastTest.log" 2>/dev/null | sed "s/^figure: /$b: /"
done
grep -h 'executions in total' build/fuzz.out 2>/dev/null | sed 's/^/build-fuzz: /' || true
echo "== summary"
for b in build build-asan; do
  echo "$b: $(grep -h 'tests passed' "$b/ctest.out")"
done

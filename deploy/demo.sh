#!/usr/bin/env bash
# demo.sh - the main job on a fresh machine: installs dependencies, builds Strata, and
# runs the worked example of the owner-assembly rules: a supervisor's offline recount of
# a 12-unit roll, once as an ordinary matter (hire a property company) and once as a
# special matter (raise the maintenance fund).
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
strata=build/client/strata

echo "Roll (tests/data/example-roll.csv):"
column -s, -t < tests/data/example-roll.csv | sed 's/^/  /'
echo
echo "Ballots (tests/data/example-ballots.csv): O8 does not vote."
echo
echo "=== Matter 4: hire a property service company (ordinary) ==="
"$strata" tally --roll tests/data/example-roll.csv --ballots tests/data/example-ballots.csv --matter 4
echo
echo "=== Matter 6: raise the maintenance fund (special) ==="
"$strata" tally --roll tests/data/example-roll.csv --ballots tests/data/example-ballots.csv --matter 6
echo
echo "The same as JSON, for machines:"
"$strata" tally --roll tests/data/example-roll.csv --ballots tests/data/example-ballots.csv --class special --json

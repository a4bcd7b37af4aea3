#!/usr/bin/env bash
# Makes the recorded fuzz runs: each target in turn for SECONDS (default 600), niced, from the
# committed seeds in corpus/<target>/ plus a fresh work corpus in work/<target>/ (not
# committed). Logs go to logs/<target>.log; crashes to artifacts/<target>/. Prints a summary
# line per target (the lines RUNS.md keeps).
#
#   fuzz/record-runs.sh [SECONDS] [TARGET...]
#
# FUZZ_BIN_DIR=DIR runs prebuilt binaries from DIR instead of building with
# `cargo fuzz build` (so a long series is not rebuilt halfway by edits to the tree).
set -uo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(index_yaml source_src metadata record entry_points wheel_filename)
fi
if [ -z "${FUZZ_BIN_DIR:-}" ]; then
    RUSTC_BOOTSTRAP=1 cargo fuzz build || exit 1
    FUZZ_BIN_DIR=target/x86_64-unknown-linux-gnu/release
fi
mkdir -p logs
for t in "${targets[@]}"; do
    rm -rf "work/$t"
    mkdir -p "work/$t" "artifacts/$t"
    start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    nice -n 10 "$FUZZ_BIN_DIR/$t" "work/$t" "corpus/$t" \
        -max_total_time="$seconds" -timeout=30 -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" >"logs/$t.log" 2>&1
    rc=$?
    last=$(grep -a -E '^#[0-9]+' "logs/$t.log" | tail -1)
    execs=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$')
    peak=$(grep -a -o 'stat::peak_rss_mb: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$')
    crashes=$(find "artifacts/$t" -type f \( -name "crash-*" -o -name "timeout-*" -o -name "oom-*" -o -name "leak-*" \) | wc -l)
    echo "$t | start $start | exit $rc | execs ${execs:-?} | peak rss ${peak:-?} MB | crash files $crashes | $last"
done

#!/usr/bin/env bash
# Fuzz smoke run, called from .ci/run: builds the cargo-fuzz targets of fuzz/ and runs each for
# FUZZ_SMOKE_SECONDS (default 20) from its committed seeds, after replaying the committed
# crash regressions. A crash fails the run (exit 1). When this machine cannot fuzz at all (no
# cargo-fuzz and no way to install it, no C++ compiler for libFuzzer) it prints
# `fuzz smoke: SKIPPED: <reason>` and exits 0. See fuzz/README.md.
#
# Only a stable toolchain exists here: RUSTC_BOOTSTRAP=1 lets cargo fuzz pass its -Zsanitizer
# flag to stable rustc. If AddressSanitizer does not work, the targets are built with
# `--sanitizer none` (plain libFuzzer coverage; panics are still caught).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SMOKE_SECONDS:-20}
targets=(index_yaml source_src metadata record entry_points wheel_filename)
say() { echo "fuzz smoke: $*"; }
skip() {
    say "SKIPPED: $*"
    exit 0
}

command -v cargo >/dev/null 2>&1 || skip "cargo is not installed"
command -v c++ >/dev/null 2>&1 || skip "no C++ compiler (libFuzzer is built from C++ source)"

if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz from crates.io"
    log=$(mktemp)
    if ! cargo install cargo-fuzz --version 0.13.2 --locked >"$log" 2>&1; then
        tail -n 5 "$log"
        skip "cargo-fuzz is not installed and \`cargo install cargo-fuzz\` failed"
    fi
fi
say "$(cargo fuzz --version)"

export RUSTC_BOOTSTRAP=1
probe=$(mktemp -d)
echo 'fn main() {}' >"$probe/probe.rs"
host=$(rustc -vV | sed -n 's/^host: //p')
if rustc -Zsanitizer=address --target "$host" -o "$probe/probe" "$probe/probe.rs" >/dev/null 2>&1 &&
    "$probe/probe"; then
    sanitizer=address
else
    sanitizer=none
    say "AddressSanitizer does not work with this rustc; building with --sanitizer none"
fi
rm -rf "$probe"

cd fuzz
start=$SECONDS
# A build failure is a real failure (a target no longer compiles against plonk), not a skip.
if ! cargo fuzz build --sanitizer "$sanitizer"; then
    say "FAILED: cargo fuzz build --sanitizer $sanitizer"
    exit 1
fi
say "built in $((SECONDS - start)) s (sanitizer: $sanitizer)"
bin="target/$host/release"

failed=0
mkdir -p logs
for t in "${targets[@]}"; do
    mkdir -p "artifacts/$t"
    if [ -d "regressions/$t" ] && [ -n "$(ls -A "regressions/$t")" ]; then
        if ! "$bin/$t" -runs=0 "regressions/$t" >"logs/smoke-$t-regressions.log" 2>&1; then
            tail -n 30 "logs/smoke-$t-regressions.log"
            say "FAILED: $t crashes on a committed regression input (fuzz/regressions/$t/)"
            failed=1
            continue
        fi
    fi
    work=$(mktemp -d)
    log="logs/smoke-$t.log"
    "$bin/$t" "$work" "corpus/$t" -max_total_time="$seconds" -timeout=30 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"$log" 2>&1
    rc=$?
    rm -rf "$work"
    execs=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    cov=$(grep -a -E '^#[0-9]+' "$log" | tail -n 1 | grep -a -o 'cov: [0-9]*')
    if [ "$rc" -ne 0 ]; then
        grep -a -E -A 3 'panicked|ERROR|SUMMARY' "$log" | head -n 30
        say "FAILED: $t (exit $rc); input saved under fuzz/artifacts/$t/, full log fuzz/$log"
        failed=1
    else
        say "ok: $t, ${execs:-?} runs in ${seconds} s, ${cov:-cov: ?}"
    fi
done
exit "$failed"

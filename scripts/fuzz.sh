#!/usr/bin/env bash
# Fuzzes the input parsers for SECONDS each (default 60):
#   ingest_bytes (report exports), scenario, snapshot (engine), sweep, account, result_line.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# With cargo-fuzz and a nightly toolchain (cargo install cargo-fuzz; rustup toolchain install
# nightly) it runs libFuzzer on fuzz/fuzz_targets/*, growing fuzz/corpus/<target>/ (only the
# seed-* files are committed); crashes land in fuzz/artifacts/<target>/. Without them it
# runs the same bodies on stable: seeded mutations of the corpus for SECONDS per target
# (tests/fuzz_replay.rs, `soak`), and lists each distinct failure with the input saved.
# A crash found either way: copy the input to fuzz/crashes/<target>-<what>, fix it, and
# tests/fuzz_replay.rs replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(ingest_bytes scenario snapshot sweep account result_line)

if cargo +nightly fuzz --version >/dev/null 2>&1; then
  for t in "${TARGETS[@]}"; do
    echo "fuzz: $t for ${SECONDS_EACH}s (libFuzzer)"
    (cd fuzz && cargo +nightly fuzz run "$t" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=4096)
  done
else
  echo "fuzz: cargo-fuzz or nightly missing; running the bodies on stable (seeded mutations)"
  for t in "${TARGETS[@]}"; do
    ADBANDIT_FUZZ_TARGET="$t" ADBANDIT_FUZZ_SECONDS="$SECONDS_EACH" \
      cargo test --release --test fuzz_replay soak -- --ignored --nocapture
  done
fi

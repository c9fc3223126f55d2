#!/usr/bin/env bash
# The long run of the core's fuzzer (tests/fuzz.rs): structure-aware XMPP frames, some mutated, through
# parse_frame and an online Client, checking no panic, bounded memory, bounded work and output per frame.
#
# Usage: scripts/fuzz.sh [FRAMES] [SEED]     (defaults: 1000000 frames, seed 1)
# Builds with the `fuzz` profile (optimized, overflow checks and debug assertions on). `cargo test` runs the
# same test with 20,000 frames. A failure prints the seed, the frame's number and the frame.
set -euo pipefail
cd "$(dirname "$0")/.."
frames="${1:-1000000}"
seed="${2:-1}"
NATTER_FUZZ_FRAMES="$frames" NATTER_FUZZ_SEED="$seed" \
  cargo test --profile fuzz --test fuzz -- --nocapture

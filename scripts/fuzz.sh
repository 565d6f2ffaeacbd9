#!/usr/bin/env bash
# Runs every fuzz target for a fixed time, one after another, then minimises
# each corpus. Needs cargo-fuzz (`cargo install cargo-fuzz`); works on stable
# through RUSTC_BOOTSTRAP. Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Logs, with libFuzzer's final exec counts, go to $FUZZ_LOG_DIR (default
# target/fuzz-logs).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-1800}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(advert arp_frame config_toml keepalived_conf ip_packet)
fi
logs=${FUZZ_LOG_DIR:-../target/fuzz-logs}
mkdir -p "$logs"
export RUSTC_BOOTSTRAP=1
cargo fuzz build
for t in "${targets[@]}"; do
    echo "== $t: ${secs}s, started $(date -u +%FT%TZ)"
    cargo fuzz run "$t" -- -max_total_time="$secs" -print_final_stats=1 \
        >"$logs/$t.log" 2>&1 || { echo "!! $t failed, see $logs/$t.log"; exit 1; }
    grep -E '^(Done|stat::number_of_executed_units)' "$logs/$t.log" || true
    cargo fuzz cmin "$t" >"$logs/$t.cmin.log" 2>&1
    echo "   corpus after cmin: $(ls "corpus/$t" | wc -l) files"
done

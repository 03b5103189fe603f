#!/usr/bin/env bash
# Runs every fuzz target (or those named) for FUZZ_SECONDS each and prints a summary.
#   Fuzz/run.sh BIN_DIR [TARGET...]
# Each target starts from a fresh temporary copy of Fuzz/Corpus/<target>/ (the grown
# corpus is thrown away, so runs are comparable); crash inputs go to Fuzz/Crashes/<target>/.
# FUZZ_FLAGS adds libFuzzer flags to every target. Exits 1 when any target crashed.
set -u
cd "$(dirname "$0")"
bin=${1:?usage: run.sh BIN_DIR [TARGET...]}
shift
seconds=${FUZZ_SECONDS:-60}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=($(cd Sources && ls -d Fuzz* | grep -v '^FuzzSupport$'))
fi
logs="$bin/fuzz-logs"
mkdir -p "$logs"
# A Swift trap goes to libFuzzer's handler (which saves the input) rather than to the
# Swift backtracer, whose memory reads AddressSanitizer reports as a second crash.
export SWIFT_BACKTRACE=enable=no
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer || echo /opt/swift/usr/bin/llvm-symbolizer)}

summary=()
failed=0
for target in "${targets[@]}"; do
    corpus=$(mktemp -d)
    cp Corpus/"$target"/* "$corpus"/ 2>/dev/null
    crashes="Crashes/$target"
    mkdir -p "$crashes"
    before=$(ls "$crashes" | wc -l)
    log="$logs/$target.log"
    echo "== $target: ${seconds}s (log: $log)"
    # Flags/<target>: that target's own libFuzzer flags, one a line, # for comments.
    flags=$( [ -f Flags/"$target" ] && grep -v '^#' Flags/"$target" | tr '\n' ' ')
    # Without this, LeakSanitizer's check at exit still reports what libFuzzer was told to ignore.
    leaks=1
    case " $flags ${FUZZ_FLAGS:-} " in *" -detect_leaks=0 "*) leaks=0 ;; esac
    started=$(date +%s.%N)
    ASAN_OPTIONS="detect_leaks=$leaks${ASAN_OPTIONS:+:$ASAN_OPTIONS}" "$bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/" $flags ${FUZZ_FLAGS:-} "$corpus" >"$log" 2>&1
    status=$?
    elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    rm -rf "$corpus"
    found=$(( $(ls "$crashes" | wc -l) - before ))
    rmdir "$crashes" 2>/dev/null
    # The final stats when libFuzzer printed them; else (-fork) its last status line.
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    rate=$(awk -v n="${execs:-0}" -v t="$elapsed" 'BEGIN { printf "%d", n / t }')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    if [ $status -ne 0 ] || [ "$found" -gt 0 ]; then
        failed=1
        grep -m1 -E 'property failed|Fatal error|ERROR: (libFuzzer|AddressSanitizer)' "$log" | sed 's/^/   /'
    fi
    summary+=("$(printf '| %-20s | %7s | %12s | %8s | %6s | %6s | %7s |' \
        "$target" "$(printf %.0f "$elapsed")" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$found")")
done

printf '\n| %-20s | %7s | %12s | %8s | %6s | %6s | %7s |\n' target seconds execs execs/s cov ft crashes
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ---------------------- --------- -------------- ---------- -------- -------- ---------
printf '%s\n' "${summary[@]}"
exit $failed

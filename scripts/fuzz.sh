#!/usr/bin/env bash
# Fuzzes every parser of untrusted bytes with libFuzzer (Swift's -sanitize=fuzzer, with
# AddressSanitizer): JSON reader, post records, leaderboard inputs, HTTP request heads,
# static paths, consumer-group assignments. Starts from the committed corpus in
# Tests/fuzz/corpus/<target>/ and fails on the first crash, leaving the input in
# .build-fuzz/findings/ (LeakSanitizer is off: Swift globals made once read as leaks).
#
#   ./scripts/fuzz.sh                      # 60 s per target
#   ./scripts/fuzz.sh --seconds 10         # the short run ./scripts/test.sh does
#   ./scripts/fuzz.sh --seconds 600 --merge   # long run; add what found new coverage to the corpus
#   ./scripts/fuzz.sh --target post-record
#
# A crash found here becomes a test: add the input to the target's corpus folder (every
# build replays it: .build/debug/streamsocial-fuzz Tests/fuzz/corpus) and fix the bug.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

seconds=60
merge=0
targets=(json post-record leaderboard board-changelog http-head static-path group-assignment kafka-frame)
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --merge) merge=1; shift ;;
    --target) targets=("$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

apt_install "${STREAMSOCIAL_APT_PACKAGES[@]}"
echo "==> building the fuzzer (.build-fuzz)"
# A failed build must stop here: an older fuzzer left in .build-fuzz would fuzz old code.
swift build --product streamsocial-fuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING 2>&1 | grep -vE "warning: Cannot export local symbol" || true
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "the fuzzer did not build" >&2; exit 1; }
bin="$(swift build --scratch-path .build-fuzz --show-bin-path)/streamsocial-fuzz"
[ -x "$bin" ] || { echo "the fuzzer did not build" >&2; exit 1; }

findings=.build-fuzz/findings
mkdir -p "$findings"
status=0
for target in "${targets[@]}"; do
  work=".build-fuzz/corpus/$target"
  mkdir -p "$work"
  echo "==> fuzzing $target for ${seconds} s"
  # New inputs go to the work folder (first); the committed corpus is only read.
  if ! ASAN_OPTIONS=detect_leaks=0 STREAMSOCIAL_FUZZ_TARGET="$target" "$bin" "$work" "Tests/fuzz/corpus/$target" \
      -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -detect_leaks=0 \
      -artifact_prefix="$findings/$target-" -print_final_stats=1 > ".build-fuzz/$target.log" 2>&1; then
    echo "!! $target crashed; input and log:" >&2
    ls -1 "$findings"/"$target"-* >&2 || true
    tail -40 ".build-fuzz/$target.log" >&2
    status=1
    continue
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" ".build-fuzz/$target.log" | tr '\n' ' '; echo
  if [ "$merge" = 1 ]; then
    ASAN_OPTIONS=detect_leaks=0 STREAMSOCIAL_FUZZ_TARGET="$target" "$bin" -merge=1 "Tests/fuzz/corpus/$target" "$work" > /dev/null 2>&1
  fi
done
exit $status

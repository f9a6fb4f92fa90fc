#!/usr/bin/env bash
# Benchmarks, with the ceiling measured in the same run (never compare with another day):
#   1. the ceiling: wrk against a bare libwebsockets responder (scripts/bench/bare_lws_responder.c)
#   2. POST /api/send-message on the release server with its embedded Kafka, same wrk load
#   3. the HTTP layer alone: an unknown path answered with a JSON 404
#   4. streamsocial load-test: 20,000 posts at concurrency 50, verified (zero errors, lost, violations)
#   5. post → WebSocket latency at 1, 20, 200, 1,000 and --rate (default 5,000) posts/s, a
#      fresh server each, with the server's own stages (ack, read, frame, socket)
#   6. timeline rebuild: 1M records, 100k users, in memory: records/s and resident memory
#   7. leaderboard rebuild, in memory
#   8. what the Kafka gateway adds to a producer: throughput and latency, straight vs through it
# Prints the figures; record them in docs/BENCHMARKS.md with the machine and the date.
#
#   ./scripts/bench.sh [--duration SECONDS] [--connections N] [--rate POSTS_PER_SECOND]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

duration=10
connections=50
rate=5000
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

apt_install "${STREAMSOCIAL_APT_PACKAGES[@]}" wrk gcc
export STREAMSOCIAL_CONFIGURATION=release
echo "==> building (release)"
swift_build --product streamsocial >/dev/null
bin="$(swift build -c release --show-bin-path)/streamsocial"
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wrk_run FILE LABEL URL [SCRIPT]: prints req/s and latency percentiles, keeps the
# output in $work/FILE.txt and the req/s in $work/FILE.rps.
wrk_run() {
  local name="$1" label="$2" url="$3" script="${4:-}"
  local args=(-t1 -c"$connections" -d"${duration}s" --latency)
  [ -n "$script" ] && args+=(-s "$script")
  wrk "${args[@]}" "$url" > "$work/$name.txt" 2>&1
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$name.txt")
  p50=$(awk '$1=="50%" {print $2}' "$work/$name.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/$name.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$work/$name.txt")
  printf '%-34s %10s req/s   p50 %-8s p99 %-8s non-2xx %s\n' "$label" "$rps" "$p50" "$p99" "${non2xx:-0}"
  echo "$rps" > "$work/$name.rps"
}

wait_ready() {
  local port="$1"
  for _ in $(seq 1 300); do
    if curl -sf "http://127.0.0.1:$port/api/status" 2>/dev/null | grep -q '"state":"ready"'; then return 0; fi
    sleep 0.1
  done
  echo "server on $port did not become ready" >&2
  return 1
}

echo "==> machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); wrk -t1 -c$connections -d${duration}s"

echo "==> 1. ceiling: bare libwebsockets responder"
cc -O2 -o "$work/bare" scripts/bench/bare_lws_responder.c -lwebsockets
bare_port=$(free_port)
"$work/bare" "$bare_port" & pids+=($!)
sleep 0.5
wrk_run ceiling "bare lws POST (ceiling)" "http://127.0.0.1:$bare_port/" scripts/bench/post.lua

echo "==> 2-3. streamsocial (release, embedded Kafka)"
port=$(free_port)
"$bin" serve --host 127.0.0.1 --port "$port" --public-dir Public --log-level error > "$work/server.log" 2>&1 & pids+=($!)
wait_ready "$port"
wrk_run post "POST /api/send-message" "http://127.0.0.1:$port/" scripts/bench/post.lua
wrk_run notfound "GET unknown path (JSON 404)" "http://127.0.0.1:$port/api/nothing-here"
ratio=$(python3 -c "print(f'{float(open(\"$work/post.rps\").read()) / float(open(\"$work/ceiling.rps\").read()):.2f}')")
echo "ratio POST /api/send-message / ceiling: $ratio (target >= 0.6)"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

echo "==> 4. load test: 20000 posts, concurrency 50, fresh server"
port=$(free_port)
"$bin" serve --host 127.0.0.1 --port "$port" --public-dir Public --log-level error > "$work/server2.log" 2>&1 & pids+=($!)
wait_ready "$port"
"$bin" load-test --url "http://127.0.0.1:$port" --users 10 --messages 20000 --concurrency 50 2>/dev/null

echo "==> 5. post -> WebSocket latency, a fresh server per rate (goal: p99 < 50 ms at every rate)"
# The server's own stages come from its /metrics histograms (bucket bounds): ack (the
# brokers' acknowledgement), read (produced -> read by the timeline consumer), frame (the
# frame window) and socket (frame made -> written to the client's socket).
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
for target in 1 20 200 1000 "$rate"; do
  port=$(free_port)
  "$bin" serve --host 127.0.0.1 --port "$port" --public-dir Public --log-level error --generator-rate 0 > "$work/server-$target.log" 2>&1 & pids+=($!)
  wait_ready "$port"
  # About 6 s of posts at each rate (30 posts at 1/s), at least 300.
  posts=$(python3 -c "print(max(300 if $target >= 20 else 30, int($target * 6)))")
  if [ "$target" = "$rate" ]; then
    # Sample the server's threads mid-run: where the CPU goes while posts flow.
    (sleep 2; top -b -H -d 1 -n 2 -p "${pids[-1]}" > "$work/top.txt") &
  fi
  "$bin" load-test --url "http://127.0.0.1:$port" --users 100 --messages "$posts" --concurrency 20 --rate "$target" --watch-websocket --no-verify --json \
    > "$work/latency-$target.json" 2>/dev/null || true
  python3 - "$work/latency-$target.json" "$target" <<'PY'
import json, sys
report, target = json.load(open(sys.argv[1])), sys.argv[2]
ws = report.get("webSocketLatency") or {}
stages = {s["name"]: s for s in (report.get("serverStages") or {}).get("stages", [])}
def b(stage, key):
    value = stages.get(stage, {}).get(key)
    return f"<={value:g}" if value is not None else "-"
p99 = ws.get("p99")
verdict = "met" if p99 is not None and p99 < 50 else "NOT met"
print(f"  {target:>5} posts/s  post->screen p50 {ws.get('p50', 0):5.1f} p99 {p99 or 0:6.1f} max {ws.get('max', 0):6.1f} ms  "
      f"(goal p99 < 50: {verdict}; {report.get('webSocketMissing', 0)} missing)")
print("                 stages p50/p99 ms: " + "  ".join(f"{s} {b(s, 'p50')}/{b(s, 'p99')}" for s in ("ack", "read", "frame", "socket")))
PY
  if [ "$target" = "$rate" ]; then
    wait $! 2>/dev/null || true
    echo "  server threads' CPU while $rate posts/s flowed (top; rdk:mock is the embedded cluster):"
    # The thread group leader's line is the main thread waiting for signals: skip it.
    awk -v leader="${pids[-1]}" '/^top/ {n++} n == 2 && $1 ~ /^[0-9]+$/ && $1 != leader && $9 + 0 >= 1 {printf "    %-16s %5s%%\n", $12, $9}' "$work/top.txt" | head -10
  fi
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
done

echo "==> 6. timeline rebuild: 1M records, 100k users (in memory)"
"$bin" benchmark-replay --records 1000000 --users 100000

echo "==> 7. leaderboard rebuild: a three-hour class (108k users, their actions and stats; in memory, merged by timestamp)"
"$bin" benchmark-board --users 108000

echo "==> 8. Kafka gateway: one producer straight to the embedded brokers and through the gateway, alternating, 3 runs each"
echo "    (throughput: 50,000 records of 200 bytes, 10,000 in flight; latency: 2,000 records one at a time)"
"$bin" benchmark-gateway --records 50000 --rounds 3 > "$work/gateway.json"
python3 - "$work/gateway.json" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))
for way in ("direct", "gateway"):
    for run in result[way]:
        print("  %-8s %10.0f records/s   one at a time: p50 %.2f ms  p99 %.2f ms  max %.2f ms"
              % (way, run["records_per_second"], run["p50_ms"], run["p99_ms"], run["max_ms"]))
print("  gateway / direct throughput (medians): %.2f; p99 added: %+.2f ms" % (result["throughput_ratio"], result["p99_added_ms"]))
PY

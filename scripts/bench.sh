#!/usr/bin/env bash
# Benchmarks, with the ceiling measured in the same run (never compare with another day):
#   1. the HTTP ceiling: wrk against a bare libwebsockets responder (scripts/bench/bare_lws_responder.c)
#   2. the Kafka-path ceiling (scripts/bench/kafka_path_server.c: libwebsockets + librdkafka doing
#      the product's Kafka work per post) against POST /api/send-message on the release server,
#      alternating, three runs each, a fresh process each run, with each one's CPU per request
#      and its request cycle (connections / req/s) split into the Kafka ack (produce → delivery
#      report) and the rest; the ratio is the median of the three pairs'
#   3. the HTTP layer alone: an unknown path answered with a JSON 404
#   4. streamsocial load-test: 20,000 posts at concurrency 50, verified (zero errors, lost, violations)
#   5. post → WebSocket latency at 1, 20, 200, 1,000 and --rate (default 5,000) posts/s, a
#      fresh server each, with the server's own stages (ack, read, frame, socket)
#   6. WebSocket fan-out: --websocket-clients (default 1,000) clients on every channel while
#      1,000 posts/s flow: a reading client's post → screen p99, the server's RSS over the run
#      and its CPU per client (against the same posts with no client), on the epoll loop and,
#      to compare, on libwebsockets' poll()
#   7. reading at 100,000 users and --reading-posts (default 1,000,000) posts: /api/users and
#      /api/timeline/{user} under 20 concurrent readers, then /api/users while 200 posts/s flow
#   8. timeline rebuild: 1M records, 100k users, in memory: records/s and resident memory
#   9. leaderboard rebuild, in memory
#  10. what the Kafka gateway adds to a producer: throughput and latency, straight vs through it
# Prints the figures; record them in docs/BENCHMARKS.md with the machine and the date.
#
#   ./scripts/bench.sh [--duration SECONDS] [--connections N] [--rate POSTS_PER_SECOND]
#                      [--websocket-clients N] [--reading-posts N]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

duration=10
connections=50
rate=5000
websocket_clients=1000
reading_posts=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --websocket-clients) websocket_clients="$2"; shift 2 ;;
    --reading-posts) reading_posts="$2"; shift 2 ;;
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

echo "==> 1. HTTP ceiling: bare libwebsockets responder"
cc -O2 -o "$work/bare" scripts/bench/bare_lws_responder.c -lwebsockets
bare_port=$(free_port)
"$work/bare" "$bare_port" & pids+=($!)
sleep 0.5
wrk_run ceiling "bare lws POST (HTTP ceiling)" "http://127.0.0.1:$bare_port/" scripts/bench/post.lua
kill "${pids[-1]}" 2>/dev/null || true; wait "${pids[-1]}" 2>/dev/null || true

# cpu_ticks PID: the process's user + system CPU so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# post_run NAME LABEL PID PORT: wrk's POST load on a fresh server, and its CPU per request.
post_run() {
  local name="$1" label="$2" pid="$3" port="$4" before after
  before=$(cpu_ticks "$pid")
  wrk_run "$name" "$label" "http://127.0.0.1:$port/" scripts/bench/post.lua
  after=$(cpu_ticks "$pid")
  local requests
  requests=$(awk '/requests in/ {print $1}' "$work/$name.txt")
  awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
    'BEGIN {printf "%34s server CPU %.1f us per request\n", "", ticks * 1e6 / hz / n}'
}

echo "==> 2. Kafka-path ceiling (C: produce keyed by user, answer on the delivery report, a group reading back) vs POST /api/send-message"
cc -O2 -o "$work/kafka-path" scripts/bench/kafka_path_server.c -lwebsockets -lrdkafka -lpthread
# cycle NAME ACK_MS [SERVER_MS]: a connection's time per request (Little's law: connections
# / req/s) split into the Kafka acknowledgement (produce → delivery report) and the rest.
cycle() {
  awk -v rps="$(cat "$work/$1.rps")" -v c="$connections" -v ack="$2" -v server="${3:-}" -v out="$work/$1.rest" 'BEGIN {
    t = c / rps * 1000
    printf "%34s request cycle %.2f ms = Kafka ack %.2f + the rest %.2f", "", t, ack, t - ack
    if (server != "") printf " (%.2f of it in the server, %.2f before its headers are read and after the write)", server - ack, t - server
    printf "\n"; print t - ack > out }'
}
# mean_ms BEFORE AFTER METRIC LABELS: a Prometheus histogram's mean over a run, in ms.
mean_ms() {
  python3 - "$@" <<'PY'
import re, sys
def read(path, name):
    values = {}
    for line in open(path):
        m = re.match(r'(\S+?)(\{.*\})?\s+(\S+)$', line.strip())
        if m and m.group(1) in (name + "_sum", name + "_count") and sys.argv[4] in (m.group(2) or ""):
            values[m.group(1)] = float(m.group(3))
    return values
before, after = read(sys.argv[1], sys.argv[3]), read(sys.argv[2], sys.argv[3])
count = after.get(sys.argv[3] + "_count", 0) - before.get(sys.argv[3] + "_count", 0)
total = after.get(sys.argv[3] + "_sum", 0) - before.get(sys.argv[3] + "_sum", 0)
print(f"{total / count * 1000:.3f}" if count else "nan")
PY
}
for round in 1 2 3; do
  kafka_port=$(free_port)
  "$work/kafka-path" "$kafka_port" 2> "$work/kafka-path.log" & pids+=($!)
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$kafka_port/" && break; sleep 0.1; done
  sleep 2  # the read-back consumer joins its group (the embedded cluster's first join waits 3 s)
  post_run "kafka-$round" "C Kafka path, run $round" "${pids[-1]}" "$kafka_port"
  kill "${pids[-1]}" 2>/dev/null || true; wait "${pids[-1]}" 2>/dev/null || true
  echo "$(printf '%34s' '') $(grep -m1 '^produced' "$work/kafka-path.log" || echo 'no counts: the C server did not stop cleanly')"
  cycle "kafka-$round" "$(awk '/^ack mean/ {print $3}' "$work/kafka-path.log")"

  port=$(free_port)
  "$bin" serve --host 127.0.0.1 --port "$port" --public-dir Public --log-level error > "$work/server.log" 2>&1 & pids+=($!)
  wait_ready "$port"
  curl -s "http://127.0.0.1:$port/metrics" > "$work/metrics-before.txt"
  post_run "post-$round" "POST /api/send-message, run $round" "${pids[-1]}" "$port"
  curl -s "http://127.0.0.1:$port/metrics" > "$work/metrics-after.txt"
  cycle "post-$round" \
    "$(mean_ms "$work/metrics-before.txt" "$work/metrics-after.txt" streamsocial_post_stage_seconds 'stage="ack"')" \
    "$(mean_ms "$work/metrics-before.txt" "$work/metrics-after.txt" http_request_duration_seconds 'route="/api/send-message"')"
  if [ "$round" = 3 ]; then
    wrk_run notfound "GET unknown path (JSON 404)" "http://127.0.0.1:$port/api/nothing-here"
  fi
  kill "${pids[-1]}" 2>/dev/null || true; wait "${pids[-1]}" 2>/dev/null || true
done
python3 - "$work" <<'PY'
import statistics, sys
work = sys.argv[1]
def number(name, suffix):
    try:
        return float(open(f"{work}/{name}.{suffix}").read())
    except (OSError, ValueError):
        return float("nan")
rounds = range(1, 4)
ratios = [number(f"post-{r}", "rps") / number(f"kafka-{r}", "rps") for r in rounds]
ratio = statistics.median(ratios)
post = statistics.median(number(f"post-{r}", "rps") for r in rounds)
kafka = statistics.median(number(f"kafka-{r}", "rps") for r in rounds)
print(f"POST / Kafka-path ceiling, run by run: {' '.join(f'{x:.2f}' for x in ratios)}; median {ratio:.2f} "
      f"({post:.0f} / {kafka:.0f} req/s, medians) (goal >= 0.9: {'met' if ratio >= 0.9 else 'NOT met'})")
rest = lambda name: statistics.median(number(f"{name}-{r}", "rest") for r in rounds)
print(f"  the rest of a request's cycle beside the Kafka ack (medians): POST {rest('post'):.2f} ms, C {rest('kafka'):.2f} ms")
print(f"POST / HTTP ceiling: {post / number('ceiling', 'rps'):.2f}")
PY

echo "==> 4. load test: 20000 posts, concurrency 50, fresh server"
port=$(free_port)
"$bin" serve --host 127.0.0.1 --port "$port" --public-dir Public --log-level error > "$work/server2.log" 2>&1 & pids+=($!)
wait_ready "$port"
"$bin" load-test --url "http://127.0.0.1:$port" --users 10 --messages 20000 --concurrency 50 2>/dev/null

echo "==> 5. post -> WebSocket latency, a fresh server per rate (goal: p99 < 50 ms at every rate)"
# The server's own stages come from its /metrics histograms (bucket bounds): ack (the
# brokers' acknowledgement), read (produced -> read by the timeline consumer), frame (the
# frame window) and socket (frame made -> written to the client's socket).
kill "${pids[-1]}" 2>/dev/null || true; wait "${pids[-1]}" 2>/dev/null || true
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
  kill "${pids[-1]}" 2>/dev/null || true; wait "${pids[-1]}" 2>/dev/null || true
done

echo "==> 6. WebSocket fan-out: $websocket_clients clients on every channel while 1,000 posts/s flow (goal: a reading client's p99 < 100 ms, RSS flat)"
# The same 10,000 posts at 1,000/s three times, on a fresh server each: with no client but
# the latency watcher, then with the crowd, then with the crowd on the server's poll()
# loop (--event-loop poll) to compare; the difference in the server's CPU is the clients'.
# The crowd is read by one thread of the load generator, on the same 2 cores.
for run in alone crowd poll; do
  crowd=$websocket_clients loop=epoll
  [ "$run" = alone ] && crowd=0
  [ "$run" = poll ] && loop=poll
  port=$(free_port)
  "$bin" serve --host 127.0.0.1 --port "$port" --public-dir Public --log-level error --generator-rate 0 --event-loop "$loop" > "$work/server-crowd.log" 2>&1 & pids+=($!)
  wait_ready "$port"
  server=${pids[-1]}
  (while kill -0 "$server" 2>/dev/null; do
     echo "$(awk '/VmRSS/ {print $2}' "/proc/$server/status" 2>/dev/null) $(cpu_ticks "$server" 2>/dev/null)"; sleep 1
   done > "$work/crowd-$run.samples") &
  sampler=$!
  "$bin" load-test --url "http://127.0.0.1:$port" --users 100 --messages 10000 --concurrency 20 --rate 1000 --watch-websocket --no-verify \
    --websocket-clients "$crowd" --json > "$work/crowd-$run.json" 2>/dev/null || true
  { curl -s "http://127.0.0.1:$port/metrics" || true; } | awk '$1 == "websocket_dropped_frames_total" {print $2}' > "$work/crowd-$run.dropped"
  kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
done
python3 - "$work" "$websocket_clients" "$(getconf CLK_TCK)" <<'PY'
import json, sys
work, crowd, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def run(name):
    try:
        report = json.load(open(f"{work}/crowd-{name}.json"))
    except (OSError, ValueError):
        report = {}  # the load test failed: every figure shows as missing
    samples = [tuple(map(int, line.split())) for line in open(f"{work}/crowd-{name}.samples") if len(line.split()) == 2]
    return report, samples
def cpu_per_second(samples):
    # Over the posting seconds: from the 2nd sample to the last.
    if len(samples) < 3: return float("nan")
    return (samples[-1][1] - samples[1][1]) / hz / (len(samples) - 2)
alone, alone_samples = run("alone")
alone_cpu = cpu_per_second(alone_samples)
print(f"  alone (the watcher only): p99 {(alone.get('webSocketLatency') or {}).get('p99', 0):.1f} ms, server CPU {alone_cpu:.2f} cores")
for name, label in (("crowd", "epoll (the default)"), ("poll", "poll (--event-loop poll)")):
    busy, busy_samples = run(name)
    ws = busy.get("webSocketLatency") or {}
    p99 = ws.get("p99")
    c = busy.get("webSocketCrowd") or {}
    dropped = open(f"{work}/crowd-{name}.dropped").read().strip() or "?"
    verdict = "met" if p99 is not None and p99 < 100 else "NOT met"
    busy_cpu = cpu_per_second(busy_samples)
    print(f"  {label}: {c.get('connected', 0)} of {c.get('clients', crowd)} clients connected, {c.get('closedByServer', 0)} closed by the server, "
          f"{c.get('bytes', 0) / 1048576 / max(c.get('seconds', 1), 1e-9):.0f} MiB/s read; frames dropped by the server: {dropped}")
    print(f"    a reading client's post->screen: p50 {ws.get('p50', 0):.1f} p99 {p99 or 0:.1f} max {ws.get('max', 0):.1f} ms (goal p99 < 100: {verdict})")
    print(f"    server CPU: {busy_cpu:.2f} cores: {(busy_cpu - alone_cpu) * 1000 / max(crowd, 1):.3f} ms of CPU per client per second")
    rss = [kb / 1024 for kb, _ in busy_samples]
    print("    server RSS (MiB, every second): " + " ".join(f"{r:.0f}" for r in rss))
PY

echo "==> 7. reading at 100,000 users and $reading_posts posts, 20 concurrent readers (goal: p99 < 20 ms)"
port=$(free_port)
"$bin" serve --host 127.0.0.1 --port "$port" --public-dir Public --log-level error --generator-rate 0 > "$work/server-reading.log" 2>&1 & pids+=($!)
wait_ready "$port"
posting_started=$(date +%s)
"$bin" load-test --url "http://127.0.0.1:$port" --users 100000 --messages "$reading_posts" --concurrency 50 --no-verify > /dev/null 2>&1 || true
echo "  $reading_posts posts of 100,000 users in $(( $(date +%s) - posting_started )) s; server RSS $(awk '/VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/${pids[-1]}/status")"
for order in posts violations user; do curl -s -o /dev/null "http://127.0.0.1:$port/api/users?limit=1&sort=$order"; done
sleep 1
reader=$({ curl -s "http://127.0.0.1:$port/api/users?limit=1" || true; } | python3 -c 'import json, sys; print(json.load(sys.stdin)["users"][0]["user_id"])' || echo unknown-user)
connections_before=$connections; connections=20
wrk_run users "GET /api/users?limit=100" "http://127.0.0.1:$port/api/users?limit=100"
wrk_run users-deep "GET /api/users, violations, offset 5000" "http://127.0.0.1:$port/api/users?limit=100&sort=violations&offset=5000"
wrk_run timeline "GET /api/timeline/{user}" "http://127.0.0.1:$port/api/timeline/$reader"
"$bin" load-test --url "http://127.0.0.1:$port" --users 100000 --messages 3000 --concurrency 4 --rate 200 --no-verify > /dev/null 2>&1 &
writer=$!
sleep 1
wrk_run users-busy "GET /api/users, 200 posts/s flowing" "http://127.0.0.1:$port/api/users?limit=100"
wait "$writer" 2>/dev/null || true
connections=$connections_before
kill "${pids[-1]}" 2>/dev/null || true; wait "${pids[-1]}" 2>/dev/null || true
python3 - "$work" <<'PY'
import re, sys
def p99_ms(name):
    match = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", open(f"{sys.argv[1]}/{name}.txt").read(), re.M)
    if not match: return None
    return float(match.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[match.group(2)]
for name, label in (("users", "/api/users"), ("users-deep", "/api/users, a deep page"), ("timeline", "/api/timeline/{user}"), ("users-busy", "/api/users while posts flow")):
    p99 = p99_ms(name)
    print(f"  {label:32} p99 {p99 if p99 is not None else float('nan'):7.2f} ms (goal < 20: {'met' if p99 is not None and p99 < 20 else 'NOT met'})")
PY

echo "==> 8. timeline rebuild: 1M records, 100k users (in memory)"
"$bin" benchmark-replay --records 1000000 --users 100000

echo "==> 9. leaderboard rebuild: a three-hour class (108k users, their actions and stats; in memory, merged by timestamp)"
"$bin" benchmark-board --users 108000

echo "==> 10. Kafka gateway: one producer straight to the embedded brokers and through the gateway, alternating, 3 runs each"
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

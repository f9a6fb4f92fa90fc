#!/usr/bin/env bash
# Installs what is missing, builds, and serves the dashboard on http://localhost:8000
# with an embedded Kafka cluster, fake users and six simulated workshop teams (the
# leaderboard: http://localhost:8000/leaderboard.html). Arguments go to
# `streamsocial serve` (try --help; --bootstrap-servers HOST:PORT uses a real cluster,
# and then no team is simulated).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

apt_install "${STREAMSOCIAL_APT_PACKAGES[@]}"
export STREAMSOCIAL_CONFIGURATION="${STREAMSOCIAL_CONFIGURATION:-release}"
echo "==> building (${STREAMSOCIAL_CONFIGURATION})"
swift_build --product streamsocial
bin="$(swift build -c "$STREAMSOCIAL_CONFIGURATION" --show-bin-path)/streamsocial"
demo=()
if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ] && [[ " $* " != *" --bootstrap-servers"* ]] && [[ " $* " != *" --simulate-teams"* ]]; then
  demo=(--simulate-teams "${STREAMSOCIAL_SIMULATE_TEAMS:-6}")
fi
# Once the server takes posts and its board is loaded (/readyz), say where to look: the
# log's "StreamSocial is up" comes a few seconds before posts are taken.
port=8000
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --port) port="${args[i + 1]:-8000}" ;;
    --port=*) port="${args[i]#--port=}" ;;
  esac
done
if command -v curl >/dev/null; then
  (
    for _ in $(seq 1 1200); do
      if curl -fsS "http://127.0.0.1:${port}/readyz" >/dev/null 2>&1; then
        echo "==> ready: the dashboard is at http://localhost:${port}/ and the board at http://localhost:${port}/leaderboard.html"
        exit 0
      fi
      sleep 0.5
    done
  ) &
fi
exec "$bin" serve --public-dir Public "${demo[@]}" "$@"

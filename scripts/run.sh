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
exec "$bin" serve --public-dir Public "${demo[@]}" "$@"

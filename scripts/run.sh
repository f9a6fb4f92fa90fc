#!/usr/bin/env bash
# Installs what is missing, builds, and serves the dashboard on http://localhost:8000
# with an embedded Kafka cluster. Arguments go to `streamsocial serve`
# (try --help; --bootstrap-servers HOST:PORT uses a real cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

apt_install "${STREAMSOCIAL_APT_PACKAGES[@]}"
export STREAMSOCIAL_CONFIGURATION="${STREAMSOCIAL_CONFIGURATION:-release}"
echo "==> building (${STREAMSOCIAL_CONFIGURATION})"
swift_build --product streamsocial
bin="$(swift build -c "$STREAMSOCIAL_CONFIGURATION" --show-bin-path)/streamsocial"
exec "$bin" serve --public-dir Public "$@"

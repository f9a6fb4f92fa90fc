#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the Swift unit and integration
# tests (embedded Kafka on loopback, the real server over sockets), then the end-to-end
# checks in Tests/e2e that use independent clients (kafka-python's murmur2, Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

apt_install "${STREAMSOCIAL_APT_PACKAGES[@]}"
pip_install kafka-python==2.0.2 pytest==9.0.3

start=$(date +%s)
echo "==> building"
swift build --build-tests
built=$(date +%s)
echo "==> swift test"
swift test --skip-build
if [ -d Tests/e2e ]; then
  echo "==> end-to-end tests (pytest)"
  STREAMSOCIAL_BIN="$(swift build --show-bin-path)/streamsocial" python3 -m pytest -q Tests/e2e
fi
end=$(date +%s)
echo "==> build $((built - start)) s, tests $((end - built)) s"

#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the Swift unit and integration
# tests (embedded Kafka on loopback, the real server over sockets), then the end-to-end
# checks in Tests/e2e that use independent clients (kafka-python's murmur2, Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

# The server's packages, plus a real browser for the dashboard tests and a colour emoji
# font so its screenshots show the badges as a projector with one does.
apt_install "${STREAMSOCIAL_APT_PACKAGES[@]}" chromium chromium-driver fonts-noto-color-emoji
# kafka-python 2.0.2: an independent murmur2 and a student-style client (3.x cannot
# talk to the embedded cluster); Selenium drives Chromium; schemathesis checks the live
# API against docs/openapi.yaml; confluent-kafka is a second, librdkafka-based student client;
# PyYAML reads docker/docker-compose.yml.
pip_install kafka-python==2.0.2 confluent-kafka==2.16.1 pytest==9.0.3 selenium==4.25.0 schemathesis==4.32.5 pyyaml==6.0.3

start=$(date +%s)
echo "==> building"
swift build --build-tests
built=$(date +%s)
echo "==> swift test"
swift test --skip-build
echo "==> fuzz corpus replay"
"$(swift build --show-bin-path)/streamsocial-fuzz" Tests/fuzz/corpus
if [ -d Tests/e2e ]; then
  echo "==> end-to-end tests (pytest)"
  STREAMSOCIAL_BIN="$(swift build --show-bin-path)/streamsocial" python3 -m pytest -q Tests/e2e
fi
echo "==> fuzzing every parser briefly (scripts/fuzz.sh runs longer)"
./scripts/fuzz.sh --seconds "${STREAMSOCIAL_FUZZ_SECONDS:-15}"
end=$(date +%s)
echo "==> build $((built - start)) s, tests $((end - built)) s"

# Shared by scripts/run.sh, scripts/test.sh and scripts/bench.sh: installs what a fresh
# Debian machine with Swift lacks. Source it; don't run it.

# The Debian packages the server builds and runs with.
STREAMSOCIAL_APT_PACKAGES=(librdkafka-dev libwebsockets-dev libwebsockets-evlib-ev libev-dev libjs-chart.js pkg-config)

# apt_install PACKAGE...: installs the packages that are not installed yet.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing Debian packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# pip_install REQUIREMENT...: installs Python test helpers that are missing.
pip_install() {
  local missing=()
  for req in "$@"; do
    python3 -c "import importlib.metadata as m, sys; n, v = '$req'.split('=='); sys.exit(0 if m.version(n) == v else 1)" 2>/dev/null || missing+=("$req")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing Python packages: ${missing[*]}"
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  # Debian's own python3 refuses system-wide pip installs (PEP 668) unless told.
  python3 -m pip install --quiet --disable-pip-version-check "${missing[@]}" 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "${missing[@]}"
}

# The Swift build: debug unless STREAMSOCIAL_CONFIGURATION says otherwise.
swift_build() {
  swift build -c "${STREAMSOCIAL_CONFIGURATION:-debug}" "$@"
}

# shellcheck shell=bash
# Shared by run.sh and test.sh (sourced, not run): install everything Pult needs on Debian 12
# (apt packages + the virtualenv .venv) and a few small helpers. Every step is skipped when it
# is already done, so a second run starts in seconds.

PULT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$PULT_ROOT/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.pult-install-stamp"
PULT_EXTRAS="server,desktop,dev"

# PostgreSQL for the test database (scripts/pg.sh); the libraries PySide6 loads for the
# offscreen and xcb platforms; Xvfb + xauth for screenshots; a font, without which Qt warns
# (and pytest-qt turns Qt warnings into failures); PortAudio for the softphone audio bridge.
APT_PACKAGES=(
  ca-certificates
  postgresql
  libegl1 libgl1 libopengl0 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3
  libxkbcommon0 libxkbcommon-x11-0 libx11-6 libx11-xcb1
  libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1
  libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1 libwayland-cursor0
  fonts-dejavu-core
  xvfb xauth
  # QtWebEngine (the operator's CRM pane): what ldd shows its libraries and
  # QtWebEngineProcess need beyond the Qt list above.
  libnss3 libnspr4 libxcomposite1 libxdamage1 libxrandr2 libxkbfile1 libxtst6 libxrender1
  libxext6 libxfixes3 libxshmfence1 libxcb-dri3-0 libdrm2 libgbm1 libasound2
  libportaudio2
  # The softphone's real-audio test: a private PulseAudio with null sinks, reached by PortAudio
  # through ALSA's pulse plugin; paplay/parec play into and record from the sinks.
  pulseaudio pulseaudio-utils libasound2-plugins
  # The SIP edge: Kamailio 5.6 with the Python KEMI engine (tsilo is in the extra modules);
  # SIPp for the SIP benchmark.
  kamailio kamailio-python3-modules kamailio-extra-modules kamailio-tls-modules sip-tester
)

if [ -t 1 ]; then _bold=$'\033[1m'; _red=$'\033[31m'; _off=$'\033[0m'; else _bold=; _red=; _off=; fi
say() { printf '%s==> %s%s\n' "$_bold" "$*" "$_off"; }
warn() { printf '%swarning:%s %s\n' "$_red" "$_off" "$*" >&2; }
die() { printf '%serror:%s %s\n' "$_red" "$_off" "$*" >&2; exit 1; }

_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# apt_install PKG... — installs only what is missing; nothing at all (not even apt-get update)
# when every package is there already.
apt_install() {
  command -v dpkg-query >/dev/null 2>&1 || { warn "not a Debian system: install $* yourself"; return 0; }
  local missing=() pkg
  for pkg in "$@"; do _installed "$pkg" || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "run as root, or install first: ${missing[*]}"
    sudo=(sudo)
  fi
  say "apt: installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    || die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" </dev/null || die "apt-get install failed"
}

# The interpreter to build .venv from: pyproject.toml wants Python 3.11.
_base_python() {
  local cand
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 \
      && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      echo "$cand"
      return 0
    fi
  done
  return 1
}

_venv_ok() {
  [ -x "$PY" ] && "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null \
    && "$PY" -m pip --version >/dev/null 2>&1
}

make_venv() {
  _venv_ok && return 0
  local base
  base=$(_base_python) || {
    apt_install python3 python3-venv python3-dev
    base=$(_base_python) || die "Python 3.11 not found (Debian 12's python3 is 3.11)"
  }
  say "creating the virtualenv .venv with $(command -v "$base")"
  rm -rf "$VENV"
  if ! "$base" -m venv "$VENV" 2>/dev/null; then
    # Debian splits venv/ensurepip out of python3; a pyenv build has them already.
    apt_install python3-venv python3-dev
    rm -rf "$VENV"
    base=python3
    "$base" -m venv "$VENV" || die "cannot create the virtualenv .venv"
  fi
}

_install_key() {
  { sha256sum "$PULT_ROOT/pyproject.toml"; echo "extras=$PULT_EXTRAS"; } | sha256sum | cut -d' ' -f1
}

# pip install -e ".[server,desktop,dev]" unless pyproject.toml is unchanged since the last one.
pip_install() {
  local key
  key=$(_install_key)
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$key" ]; then
    return 0
  fi
  say "pip: installing Pult and its dependencies into .venv"
  rm -f "$STAMP"
  "$PY" -m pip install -q --disable-pip-version-check --upgrade pip </dev/null \
    || die "cannot upgrade pip"
  "$PY" -m pip install -q --disable-pip-version-check -e "$PULT_ROOT[$PULT_EXTRAS]" </dev/null \
    || die "pip install failed"
  echo "$key" >"$STAMP"
}

# Everything, idempotently. PATH gets .venv/bin so ruff, mypy, pytest, lint-imports resolve.
install_all() {
  apt_install "${APT_PACKAGES[@]}"
  make_venv
  pip_install
  export PATH="$VENV/bin:$PATH"
  export VIRTUAL_ENV="$VENV"
}

# A TCP port nobody listens on right now (the kernel picks it).
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# port_busy HOST PORT — true when something already listens there.
port_busy() {
  "$PY" - "$1" "$2" <<'EOF'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
probe = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
with socket.socket(socket.AF_INET6 if ":" in probe else socket.AF_INET) as s:
    s.settimeout(1)
    sys.exit(0 if s.connect_ex((probe, port)) == 0 else 1)
EOF
}

#!/usr/bin/env bash
# Install what Pult needs, prepare the database with the demo company, start the server and
# then the desktop client. Without a display the server keeps running until Ctrl+C.
# Settings come from the environment (see README): PULT_HOST, PULT_PORT, PULT_DATA_DIR,
# PULT_DATABASE_URL, ...
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/common.sh
source scripts/common.sh

install_all

export PULT_DATA_DIR="${PULT_DATA_DIR:-$PULT_ROOT/data}"
export PULT_HOST="${PULT_HOST:-127.0.0.1}"
export PULT_PORT="${PULT_PORT:-8080}"
# The SIP edge (Kamailio) and the server read the same variables: phones register here.
export PULT_SIP_ADDRESS="${PULT_SIP_ADDRESS:-127.0.0.1}"
export PULT_SIP_PORT="${PULT_SIP_PORT:-5060}"
mkdir -p "$PULT_DATA_DIR"
chmod 700 "$PULT_DATA_DIR"

# The address clients use: a server bound to every interface is still reached locally.
case "$PULT_HOST" in
  0.0.0.0 | "::" | "") client_host=127.0.0.1 ;;
  *:*) client_host="[$PULT_HOST]" ;;
  *) client_host=$PULT_HOST ;;
esac
url="http://$client_host:$PULT_PORT"

if port_busy "$PULT_HOST" "$PULT_PORT"; then
  die "port $PULT_PORT is already in use (another Pult server?). Stop it or choose another: PULT_PORT=8081 ./run.sh"
fi

say "database: migrating to the newest schema"
python -m server_stub migrate

# The demo loader creates rows once; the marker keeps later runs from trying again, and the
# saved output lets every run show the logins.
marker="$PULT_DATA_DIR/.demo-loaded"
logins="$PULT_DATA_DIR/demo-logins.txt"
if [ ! -f "$marker" ]; then
  say "loading the demo company"
  if python -m server_stub demo >"$logins.new"; then
    mv "$logins.new" "$logins"
    chmod 600 "$logins"
    touch "$marker"
  else
    rm -f "$logins.new"
    warn "the demo company was not loaded (see the message above); the server starts anyway"
  fi
fi

server_pid=""
edge_pid=""
stop_server() {
  if [ -n "$edge_pid" ] && kill -0 "$edge_pid" 2>/dev/null; then
    kill -TERM "$edge_pid" 2>/dev/null || true
    wait "$edge_pid" 2>/dev/null || true
  fi
  edge_pid=""
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting the server on $PULT_HOST:$PULT_PORT"
python -m server_stub serve --no-migrate --host "$PULT_HOST" --port "$PULT_PORT" &
server_pid=$!

healthy() {
  python - "$url/api/health" <<'EOF' 2>/dev/null
import sys, urllib.request
direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
with direct.open(sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}
for _ in $(seq 1 120); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    server_pid=""
    die "the server stopped while starting (see its messages above)"
  fi
  healthy && break
  sleep 0.5
done
healthy || die "the server did not answer $url/api/health within a minute"
sleep 1
# Another process on the port could have answered for a server that failed to bind.
kill -0 "$server_pid" 2>/dev/null || { server_pid=""; die "the server stopped while starting"; }

# The SIP edge asks this server where every call goes; without it the desktop cannot call.
if port_busy "$PULT_SIP_ADDRESS" "$PULT_SIP_PORT"; then
  warn "SIP port $PULT_SIP_PORT is busy: the SIP edge is not started (PULT_SIP_PORT=5070 ./run.sh)"
else
  say "starting the SIP edge (Kamailio) on $PULT_SIP_ADDRESS:$PULT_SIP_PORT"
  PULT_EDGE_SERVER_URL="$url" python -m server_stub.sip start &
  edge_pid=$!
  sleep 2
  kill -0 "$edge_pid" 2>/dev/null || { edge_pid=""; warn "the SIP edge stopped while starting (see above)"; }
fi

echo
say "Pult server is running"
echo "  API:            $url/api"
echo "  OpenAPI (docs): $url/api/docs"
echo "  SIP registrar:  sip:$PULT_SIP_ADDRESS:$PULT_SIP_PORT (UDP and TCP)"
echo "  Data folder:    $PULT_DATA_DIR"
if [ -f "$logins" ]; then
  echo
  cat "$logins"
fi
echo

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  say "starting the desktop client (closing it stops the server)"
  python -m desktop --server "$url" || warn "the desktop client exited with an error"
else
  if [ "$client_host" = 127.0.0.1 ] && [ "$PULT_HOST" != 0.0.0.0 ]; then
    hint="http://<host>:$PULT_PORT (start with PULT_HOST=0.0.0.0 to accept other machines)"
  else
    hint="http://<host>:$PULT_PORT"
  fi
  echo "No display: the server keeps running; connect a desktop client with:"
  echo "  python -m desktop --server $hint"
  echo "  (on this machine: .venv/bin/python -m desktop --server $url)"
  echo "Press Ctrl+C to stop the server."
  wait "$server_pid" || true
  server_pid=""
fi

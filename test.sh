#!/usr/bin/env bash
# Install what the tests need, start a throwaway PostgreSQL, then run every check:
# ruff (lint + format), mypy, import contracts and the whole pytest suite on SQLite and
# PostgreSQL. Extra arguments go to pytest, e.g. `./test.sh tests/ui -x`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/common.sh
source scripts/common.sh

install_all

export QT_QPA_PLATFORM=offscreen
# Keep Qt quiet about a missing runtime dir (pytest-qt fails a test on any Qt warning).
xdg_dir=""
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  xdg_dir=$(mktemp -d /tmp/pult-xdg.XXXXXX)
  export XDG_RUNTIME_DIR="$xdg_dir"
fi

pg_dir=""
cleanup() {
  if [ -n "$pg_dir" ]; then scripts/pg.sh stop "$pg_dir" || true; fi
  if [ -n "$xdg_dir" ]; then rm -rf "$xdg_dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${PULT_TEST_PG_URL:-}" ]; then
  pg_dir=$(mktemp -d /tmp/pult-test-pg.XXXXXX)
  port=$(free_port)
  if url=$(scripts/pg.sh start "$pg_dir" "$port"); then
    export PULT_TEST_PG_URL="$url"
    say "PostgreSQL for tests: $url"
  else
    # conftest.py refuses to run under CI without PostgreSQL; locally SQLite alone is allowed.
    warn "could not start PostgreSQL: tests run on SQLite only"
  fi
fi

names=()
results=()
run_step() {
  local name=$1
  shift
  say "$name"
  local rc=0
  "$@" || rc=$?
  names+=("$name")
  results+=("$rc")
}

run_step "ruff check" ruff check .
run_step "ruff format --check" ruff format --check .
run_step "mypy" mypy
run_step "import contracts" lint-imports
run_step "pytest" pytest "$@"

echo
say "summary"
failed=0
for i in "${!names[@]}"; do
  if [ "${results[$i]}" = 0 ]; then
    printf '  %-22s ok\n' "${names[$i]}"
  else
    printf '  %-22s FAILED (exit %s)\n' "${names[$i]}" "${results[$i]}"
    failed=1
  fi
done
exit "$failed"

#!/usr/bin/env bash
# Makes PostgreSQL server binaries (initdb, pg_ctl) available for the rotation tests against a real database
# (tests/SecretsCache.IntegrationTests/Rotation/Postgres*). Installs the Debian package "postgresql" when they are missing.
# Idempotent and quiet when already installed. It never starts a server: the tests run a private cluster of their own.
# It never fails the build: if PostgreSQL cannot be installed, the PostgreSQL tests fail with a clear message instead
# (set SECRETSCACHE_SKIP_POSTGRES=1 to skip them deliberately).
set -uo pipefail

if [ "${SECRETSCACHE_SKIP_POSTGRES:-}" = "1" ]; then
  echo "setup-postgres: SECRETSCACHE_SKIP_POSTGRES=1, not installing PostgreSQL; its tests are skipped."
  exit 0
fi

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  exit 0
fi

missing() {
  echo "setup-postgres: $1 PostgreSQL server binaries are not installed, so the PostgreSQL rotation tests will fail." >&2
  echo "setup-postgres: install the 'postgresql' package (Debian/Ubuntu), or set SECRETSCACHE_SKIP_POSTGRES=1 to skip those tests." >&2
  exit 0
}

command -v apt-get >/dev/null 2>&1 || missing "No apt-get here."

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    missing "Not root and no passwordless sudo."
  fi
fi

echo "setup-postgres: installing PostgreSQL (Debian package 'postgresql')..."
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || missing "apt-get update failed (no network?)."
"${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null 2>&1 || missing "apt-get install postgresql failed."
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing "The package installed, but initdb is not under /usr/lib/postgresql/*/bin."
echo "setup-postgres: installed $(ls -d /usr/lib/postgresql/*/bin | tail -n 1)."

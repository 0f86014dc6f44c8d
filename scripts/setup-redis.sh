#!/usr/bin/env bash
# Makes redis-server available for the Redis L2 tests (tests/SecretsCache.Redis.Tests), which start a private server of
# their own per run. Installs the Debian package "redis-server" when the binary is missing.
# Idempotent and quiet when already installed. It never starts a server, and it never fails the build: if Redis cannot be
# installed, the Redis tests fail with a clear message instead (set SECRETSCACHE_SKIP_REDIS=1 to skip them deliberately).
set -uo pipefail

if [ "${SECRETSCACHE_SKIP_REDIS:-}" = "1" ]; then
  echo "setup-redis: SECRETSCACHE_SKIP_REDIS=1, not installing Redis; its tests are skipped."
  exit 0
fi

if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then
  exit 0
fi

missing() {
  echo "setup-redis: $1 redis-server is not installed, so the Redis tests will fail." >&2
  echo "setup-redis: install the 'redis-server' package (Debian/Ubuntu), or set SECRETSCACHE_SKIP_REDIS=1 to skip those tests." >&2
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

echo "setup-redis: installing Redis (Debian package 'redis-server')..."
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || missing "apt-get update failed (no network?)."
# The tests never use the package's own service (where systemd starts one on 6379): they run a private server.
"${sudo[@]}" apt-get install -y -qq --no-install-recommends redis-server >/dev/null 2>&1 || missing "apt-get install redis-server failed."
command -v redis-server >/dev/null 2>&1 || missing "The package installed, but redis-server is not on PATH."
echo "setup-redis: installed $(redis-server --version | head -n 1)."

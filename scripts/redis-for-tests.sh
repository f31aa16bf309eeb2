#!/usr/bin/env bash
# Redis (Debian's redis-server) for the two-replica test, which starts its own server on a free port.
set -euo pipefail
command -v redis-server >/dev/null && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo"; else
  echo "The replica test needs redis-server: sudo apt-get install redis-server" >&2
  exit 0
fi
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends redis-server >&2

#!/usr/bin/env bash
# Install the broker the scale-out tests start: Debian's redis-server (each test starts its
# own on a free loopback port; the package's system service is not used).  Idempotent.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "setup_redis: redis-server missing and not root (cannot apt-get install redis-server)" >&2
    exit 2
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the package must not start a system-wide server on the default port
POLICY=/usr/sbin/policy-rc.d
CREATED=""
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod +x "$POLICY"
  CREATED=1
fi
trap '[ -n "$CREATED" ] && $SUDO rm -f "$POLICY"' EXIT
$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null 2>&1 || {
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
}
command -v redis-server >/dev/null

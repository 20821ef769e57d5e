#!/usr/bin/env bash
# Install the browser the UI tests drive: Debian's Chromium (Playwright's own browser
# download does not work offline).  Idempotent; runs as root in CI.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "setup_browser: /usr/bin/chromium missing and not root (cannot apt-get install chromium)" >&2
    exit 2
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x /usr/bin/chromium

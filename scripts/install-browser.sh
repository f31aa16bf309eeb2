#!/usr/bin/env bash
# Chromium and ChromeDriver (Debian packages) for the browser tests, installed when missing.
# Without root or sudo it only says how; the browser tests then skip locally (CI=true makes them fail).
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  SUDO=""
elif sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  echo "The browser tests need Chromium: sudo apt-get install chromium chromium-driver" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "The browser tests need Chromium and ChromeDriver at /usr/bin/chromium and /usr/bin/chromedriver" >&2
  exit 0
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver

#!/usr/bin/env bash
# The browser tests drive Debian's chromium (a test tool's own browser download cannot work
# without internet) and need a CJK font so Chinese renders in screenshots.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "chromium and fonts-wqy-microhei are needed for the browser tests; install them as root:" >&2
    echo "  apt-get install -y chromium fonts-wqy-microhei" >&2
    exit 1
  fi
fi
echo "installing Debian chromium and a CJK font for the browser tests..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null

#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium (package "chromium") for the browser test of samples/Web, only when
# /usr/bin/chromium is missing. Quiet when there is nothing to do. Needs root (apt-get); prints the browser path.
set -euo pipefail
bin=/usr/bin/chromium
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: $bin is missing and apt-get is not available; install Chromium and set CHROMIUM=/path/to/it" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-chromium: $bin is missing and this is not root; run 'apt-get install -y chromium' as root" >&2
  exit 1
fi
echo "install-chromium: apt-get install -y chromium" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends chromium >&2; then
  apt-get update >&2
  apt-get install -y --no-install-recommends chromium >&2
fi
[ -x "$bin" ] || { echo "install-chromium: apt-get finished but $bin is still missing" >&2; exit 1; }
echo "$bin"

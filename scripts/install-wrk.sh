#!/usr/bin/env bash
# Installs Debian's HTTP load tool wrk (used to measure the session store against the stock session over the
# sample web app), only when it is missing. Prints its path.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  command -v wrk
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-wrk: wrk is missing; run 'apt-get install -y wrk' as root" >&2
  exit 1
fi
echo "install-wrk: apt-get install -y wrk" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends wrk >&2; then
  apt-get update >&2
  apt-get install -y --no-install-recommends wrk >&2
fi
command -v wrk

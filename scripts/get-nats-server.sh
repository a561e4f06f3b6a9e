#!/usr/bin/env bash
# Prints the path of a nats-server >= 2.12.1, provisioning one into .tools/ if needed.
# Order: $NATS_SERVER, a cached .tools/ copy, nats-server on PATH, then Debian testing/sid's package
# fetched through a private apt state dir (the machine's apt sources are never touched and
# nothing is installed system-wide).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
min="2.12.1"

version_of() { "$1" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -n1; }
new_enough() {
  local v; v="$(version_of "$1")"; [ -n "$v" ] || return 1
  [ "$(printf '%s\n%s\n' "$min" "$v" | sort -V | head -n1)" = "$min" ]
}
pick() { if [ -x "$1" ] && new_enough "$1"; then echo "$1"; exit 0; fi; }

if [ -n "${NATS_SERVER:-}" ]; then
  pick "$NATS_SERVER"
  echo "NATS_SERVER=$NATS_SERVER is not a nats-server >= $min (found: $(version_of "$NATS_SERVER" || true))" >&2
  exit 1
fi
pick "$tools/nats-server/usr/sbin/nats-server"
if command -v nats-server >/dev/null 2>&1; then pick "$(command -v nats-server)"; fi

echo "Fetching nats-server from Debian testing/sid into $tools (private apt state, no system change)..." >&2
# shellcheck source=debian-testing-apt.sh
. "$root/scripts/debian-testing-apt.sh"
if ! testing_apt_init "$tools"; then
  echo "error: could not read Debian testing/sid package lists; set NATS_SERVER to a nats-server >= $min" >&2
  exit 1
fi
rm -f "$tools"/download/nats-server_*.deb
testing_download "$tools/download" nats-server || {
  echo "error: could not download the nats-server package; set NATS_SERVER to a nats-server >= $min" >&2
  exit 1
}
rm -rf "$tools/nats-server"
dpkg-deb -x "$tools"/download/nats-server_*.deb "$tools/nats-server"
bin="$tools/nats-server/usr/sbin/nats-server"
if [ -x "$bin" ] && new_enough "$bin"; then echo "$bin"; exit 0; fi
echo "error: downloaded nats-server is $(version_of "$bin" || echo unknown), need >= $min; set NATS_SERVER" >&2
exit 1

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
apt_dir="$tools/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc/preferences.d" "$tools/download"
arch="$(dpkg --print-architecture)"
cat >"$apt_dir/etc/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian forky main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
SRC
: >"$apt_dir/status"
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
  -o "Dir::Etc::SourceParts=-"
  -o "Dir::Etc::Preferences=$apt_dir/etc/preferences"
  -o "Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d"
  -o "Dir::State=$apt_dir"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::State::status=$apt_dir/status"
  -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Architecture=$arch"
  -o "Debug::NoLocking=1"
)
if ! apt-get "${apt_opts[@]}" -qq update >&2; then
  echo "error: could not read Debian testing/sid package lists; set NATS_SERVER to a nats-server >= $min" >&2
  exit 1
fi
( cd "$tools/download" && rm -f nats-server_*.deb && apt-get -o APT::Sandbox::User=root "${apt_opts[@]}" -qq download nats-server >&2 ) || {
  echo "error: could not download the nats-server package; set NATS_SERVER to a nats-server >= $min" >&2
  exit 1
}
rm -rf "$tools/nats-server"
dpkg-deb -x "$tools"/download/nats-server_*.deb "$tools/nats-server"
bin="$tools/nats-server/usr/sbin/nats-server"
if [ -x "$bin" ] && new_enough "$bin"; then echo "$bin"; exit 0; fi
echo "error: downloaded nats-server is $(version_of "$bin" || echo unknown), need >= $min; set NATS_SERVER" >&2
exit 1

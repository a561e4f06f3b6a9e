#!/usr/bin/env bash
# Prints the path of a redis-server >= 8 (the peer of the cache and Orleans benchmarks and tests), provisioning one into
# .tools/redis if needed. Order: $REDIS_SERVER, a cached .tools/ copy, redis-server on PATH, then Debian testing's
# (forky) package. Forky's binary needs forky's glibc/libstdc++, which Debian 12 does not have: those libraries are
# unpacked next to it and the printed path is a wrapper that runs it through forky's own dynamic loader. Nothing is
# installed system-wide and the machine's apt sources are not changed. redis-cli is provisioned the same way
# (.tools/redis/bin/redis-cli).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
min_major=8

major_of() { "$1" --version 2>/dev/null | sed -n 's/.*v=\([0-9][0-9]*\)\..*/\1/p' | head -n1; }
pick() { local m; if [ -x "$1" ] && m="$(major_of "$1")" && [ -n "$m" ] && [ "$m" -ge "$min_major" ]; then echo "$1"; exit 0; fi; }

if [ -n "${REDIS_SERVER:-}" ]; then
  pick "$REDIS_SERVER"
  echo "REDIS_SERVER=$REDIS_SERVER is not a redis-server >= $min_major" >&2
  exit 1
fi
pick "$tools/redis/bin/redis-server"
if command -v redis-server >/dev/null 2>&1; then pick "$(command -v redis-server)"; fi

echo "Fetching redis-server from Debian testing into $tools/redis (private apt state, no system change)..." >&2
# shellcheck source=debian-testing-apt.sh
. "$root/scripts/debian-testing-apt.sh"
testing_apt_init "$tools" || { echo "error: could not read Debian testing package lists; set REDIS_SERVER" >&2; exit 1; }
dl="$tools/download/redis"
rm -rf "$dl" "$tools/redis"
# The server and its whole runtime closure on forky (glibc included: the binaries need GLIBC_2.38+).
testing_download "$dl" redis-server redis-tools libc6 libstdc++6 libgcc-s1 libjemalloc2 liblzf1 libssl3t64 \
  libsystemd0 libcap2 libgcrypt20 liblzma5 libzstd1 liblz4-1 libgpg-error0 libatomic1 || {
  echo "error: could not download the redis-server packages; set REDIS_SERVER" >&2; exit 1; }
mkdir -p "$tools/redis/root" "$tools/redis/bin"
for deb in "$dl"/*.deb; do dpkg-deb -x "$deb" "$tools/redis/root"; done
lib="$tools/redis/root/usr/lib/x86_64-linux-gnu"
for exe in redis-server redis-cli; do
  cat >"$tools/redis/bin/$exe" <<WRAP
#!/bin/sh
# Forky's $exe through forky's loader and libraries (written by scripts/get-redis-server.sh).
exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib" "$tools/redis/root/usr/bin/$exe" "\$@"
WRAP
  chmod +x "$tools/redis/bin/$exe"
done
pick "$tools/redis/bin/redis-server"
echo "error: the provisioned redis-server does not run or is older than $min_major" >&2
exit 1

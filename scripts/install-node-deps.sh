#!/usr/bin/env bash
# Installs js/'s npm packages (the official NATS JS client the benchmarks compare against) when they are
# missing or older than js/package-lock.json. Quiet when there is nothing to do; run by ./build.sh setup.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
js="$root/js"
[ -f "$js/package.json" ] || exit 0

if ! command -v npm >/dev/null 2>&1; then
  echo "install-node-deps: npm not found; install Node.js >= 20 with npm (e.g. apt-get install nodejs npm) to run the JS side of ./build.sh bench" >&2
  exit 1
fi

lock="$js/package-lock.json"
modules="$js/node_modules"
# npm touches node_modules/.package-lock.json on every install, so it tells us when the last install happened.
stamp="$modules/.package-lock.json"
if [ -d "$modules" ] && [ -f "$stamp" ] && { [ ! -f "$lock" ] || [ ! "$lock" -nt "$stamp" ]; } && [ ! "$js/package.json" -nt "$stamp" ]; then
  exit 0
fi

cd "$js"
# The @nats-io 3.4 packages declare node >= 22 but work on Debian's node 20; keep that warning out of the log.
if [ -f "$lock" ]; then
  cmd=(npm ci)
else
  cmd=(npm install)
fi
echo "install-node-deps: ${cmd[*]} in js/" >&2
if ! out="$("${cmd[@]}" --no-audit --no-fund --loglevel=error 2>&1)"; then
  echo "$out" >&2
  echo "install-node-deps: '${cmd[*]}' failed in $js" >&2
  exit 1
fi

#!/usr/bin/env bash
# The single entry point: ./build.sh test | demo [web|expiry|patterns|silo] | bench [grains|graincache] | setup
# Everything a fresh Debian 12 machine with the .NET SDK needs is installed from here.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

setup() {
  NATS_SERVER="$(scripts/get-nats-server.sh)"
  export NATS_SERVER
  echo "nats-server: $NATS_SERVER ($("$NATS_SERVER" --version))" >&2
  # Redis 8: the peer of the RedisCache / Orleans Redis benchmarks and comparison tests.
  REDIS_SERVER="$(scripts/get-redis-server.sh)"
  export REDIS_SERVER
  echo "redis-server: $REDIS_SERVER ($("$REDIS_SERVER" --version | cut -d' ' -f1-3))" >&2
  if [ -f js/package.json ]; then scripts/install-node-deps.sh >&2; fi
  # Headless Chromium for the browser test (Debian package). Without it only that test fails, loudly.
  if CHROMIUM="$(scripts/install-chromium.sh)"; then export CHROMIUM; else echo "setup: no Chromium; the browser test will fail" >&2; fi
  dotnet restore CacheProvider.sln >&2
}

run_tests() {
  setup
  dotnet build CacheProvider.sln -c Release --no-restore >&2
  local log; log="$(mktemp)"
  set +e
  # Test projects run one after another: each starts its own nats-servers, and two cores are all we have.
  dotnet test CacheProvider.sln -c Release --no-build -m:1 \
    --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local passed failed
  # Each test assembly ends with "Total tests: N / Passed: N / Failed: N" lines (normal verbosity).
  passed=$(sed -n 's/^[[:space:]]*Passed: *\([0-9][0-9]*\)[[:space:]]*$/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
  failed=$(sed -n 's/^[[:space:]]*Failed: *\([0-9][0-9]*\)[[:space:]]*$/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
  passed=${passed:-0}; failed=${failed:-0}
  # CI keeps only part of a long log: repeat each failure (name, message, top of the stack) just above the count.
  awk '/^[[:space:]]+Failed [^ ]+ \[/ { keep = 14; print "FAILED:" } keep > 0 && /Standard Output Messages:/ { keep = 0 } keep > 0 { print; keep-- }' "$log"
  rm -f "$log"
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  echo "$passed passed, $failed failed"
  [ "$rc" -eq 0 ]
}

cmd="${1:-test}"; shift || true
case "$cmd" in
  setup) setup ;;
  test) run_tests "$@" ;;
  demo)
    # demo [web|expiry|patterns|silo] [args]: the ASP.NET Core sample (default; prints its URL, --smoke exercises it once
    # and exits 0/1), the per-message-TTL console walkthrough, the lease/presence/token sample, or the Orleans silo
    # (NATS grain storage with per-state TTL, NATS reminders, deactivation on expiry; --smoke runs its story once, 0/1).
    setup
    case "${1:-web}" in
      silo) shift; dotnet run --project samples/Silo -c Release -- "$@" ;;
      cluster) shift; dotnet run --project samples/Cluster -c Release -- "$@" ;;
      patterns) shift; dotnet run --project samples/Patterns -c Release -- "$@" ;;
      expiry) shift; dotnet run --project samples/Expiry -c Release -- "$@" ;;
      web) shift; dotnet run --project samples/Web -c Release -- "$@" ;;
      *) dotnet run --project samples/Web -c Release -- "$@" ;;
    esac ;;
  bench)
    # bench [--filter X]: the cache benchmarks; bench grains [--seconds N]: the grain providers vs Orleans' Redis and
    # memory providers in one silo (issue #13, about a minute at the default 5 s); bench graincache [--seconds N]
    # [--reps R] [--count N]: the Orleans distributed cache vs the direct NATS cache and ModCaches-style grains on Redis
    # storage, one silo + an Orleans client (issue #14, a few minutes at the defaults).
    setup
    case "${1:-}" in
      grains) shift; dotnet run --project bench/Grains.Measure -c Release -- "$@" ;;
      graincache) shift; dotnet run --project bench/GrainCache.Measure -c Release -- "$@" ;;
      clustering) shift; dotnet run --project bench/Clustering.Measure -c Release -- "$@" ;;
      *) dotnet run --project bench/CacheProvider.Bench -c Release -- "$@" ;;
    esac ;;
  *) echo "usage: ./build.sh [test|demo [web [--smoke]|expiry|patterns|silo [--smoke]|cluster [--smoke]]|bench [--filter X|grains [--seconds N]|graincache [--seconds N] [--reps R] [--count N]|clustering [--reps R]]|setup]" >&2; exit 2 ;;
esac

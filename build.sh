#!/usr/bin/env bash
# The single entry point: ./build.sh test | setup | demo [web|expiry|patterns|silo|cluster] [args] | bench [grains|graincache|ycsb|clustering] [args]
# Everything a fresh Debian 12 machine with the .NET SDK needs is installed from here.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# No MSBuild worker nodes left running after the script ends (or after Ctrl+C on a demo): builds here are one-shot.
export MSBUILDDISABLENODEREUSE=1

# The tools: nats-server, redis-server, the JS client's npm packages, Chromium.
provision() {
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
}

setup() {
  provision
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

usage() {
  [ -z "${1:-}" ] || echo "build.sh: $1" >&2
  echo "usage: ./build.sh [test [dotnet test args]|setup|demo [web [--smoke]|expiry|patterns|silo [--smoke]|cluster [--smoke]]|bench [--filter X] [--reps N] [--list] [--bdn]|bench grains [--seconds N]|bench graincache [--seconds N] [--reps R] [--count N]|bench ycsb [--seconds N] [--reps R] [--records N] [--workload a|b|ab]|bench clustering [--reps R] [--seconds S]]" >&2
  exit 2
}

# Each runnable form is one line of a table: "<command> <name>|<project>". A name of "-" is the default, used when
# the next argument is absent or an option (demo --smoke = demo web --smoke). Add a line to add a form.
projects='demo web|samples/Web
demo -|samples/Web
demo expiry|samples/Expiry
demo patterns|samples/Patterns
demo silo|samples/Silo
demo cluster|samples/Cluster
bench grains|bench/Grains.Measure
bench graincache|bench/GrainCache.Measure
bench ycsb|bench/Ycsb
bench clustering|bench/Clustering.Measure
bench -|bench/CacheProvider.Bench'

# Prints the project of "<command> <name>" (or of the command's default), or nothing.
project_of() { printf '%s\n' "$projects" | awk -F'|' -v form="$1 $2" '$1 == form { print $2; exit }'; }

cmd="${1:-test}"; shift || true
case "$cmd" in
  setup) [ $# -eq 0 ] || usage "setup takes no arguments"; setup ;;
  test) run_tests "$@" ;;
  demo|bench)
    # demo [web|expiry|patterns|silo|cluster] [args]: the ASP.NET Core sample (default; prints its URL, --smoke exercises
    # it once and exits 0/1), the per-message-TTL console walkthrough, the lease/presence/token sample, the Orleans silo
    # (NATS grain storage with per-state TTL, NATS reminders, deactivation on expiry; --smoke runs its story once, 0/1),
    # or a 3-silo Orleans cluster on NATS alone (kills a silo and shows its grains move; --smoke once, 0/1).
    # bench clustering: NATS vs Orleans' Redis clustering + grain directory, 3 silo processes.
    # bench [--filter X]: the cache benchmarks; bench grains [--seconds N]: the grain providers vs Orleans' Redis and
    # memory providers in one silo (issue #13, about a minute at the default 5 s); bench graincache [--seconds N]
    # [--reps R] [--count N]: the Orleans distributed cache vs the direct NATS cache and ModCaches-style grains on Redis
    # storage, one silo + an Orleans client (issue #14, a few minutes at the defaults); bench ycsb: the YCSB-style
    # two-node workload (two node processes, RedisCache / HybridCache peers, stale reads; about 4 min at the defaults).
    # Arguments are checked before set-up, so a typo costs no restore and gets the usage line at once.
    name="${1:-}"
    case "$name" in
      ""|-*) project="$(project_of "$cmd" -)" ;;
      *) project="$(project_of "$cmd" "$name")"; shift
         [ -n "$project" ] || usage "unknown $cmd '$name'" ;;
    esac
    # The tools only: `dotnet run` restores and builds just the project it runs, not the whole solution.
    provision
    dotnet run --project "$project" -c Release -- "$@" ;;
  *) usage "unknown command '$cmd'" ;;
esac

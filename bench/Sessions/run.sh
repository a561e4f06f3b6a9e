#!/usr/bin/env bash
# Requests/s of the sample web app (samples/Web) with the stock DistributedSession over AddNatsDistributedCache
# versus AddNatsSessionStore, under wrk at 16 concurrent clients, each with its own session cookie
# (logged in with curl first; session.lua hands cookie i to wrk thread i). Two workloads: /bench/read (loads the session, changes nothing) and /bench/write (increments a
# counter). The order of the modes is reversed every other round so drift of a busy machine hits both alike; the median per
# cell is reported. Each line also shows the CPU time per request of the app and of nats-server (from /proc, so it is
# less sensitive than req/s to what else runs on the machine).
# Modes: stock (DistributedSession over AddNatsDistributedCache), nats (AddNatsSessionStore, defaults),
# nats-direct (AddNatsSessionStore without its near cache: every load is one direct get).
# The stock session over Microsoft's RedisCache is measured side by side by `./build.sh bench --filter session`
# (bench/CacheProvider.Bench SessionMetric, the sample's --stock-redis host:port).
# usage: bench/Sessions/run.sh [--rounds N] [--duration 10s] [--connections 16] [--warmup 8s (per path)] [--modes "stock nats"]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/bench/Sessions"
rounds=3 duration=10s conns=16 warmup=8s modes="stock nats"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) conns="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--duration 10s] [--connections 16] [--warmup 8s] [--modes 'stock nats nats-direct']" >&2; exit 2 ;;
  esac
done

wrk="$("$root/scripts/install-wrk.sh")"
nats_server="${NATS_SERVER:-$("$root/scripts/get-nats-server.sh")}"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of one process, in clock ticks
hz="$(getconf CLK_TCK)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

dotnet build "$root/samples/Web" -c Release -v q -nologo >/dev/null
app_dll="$root/samples/Web/bin/Release/net10.0/CacheProvider.Samples.Web.dll"

work="$(mktemp -d)"
nats_pid="" app_pid=""
cleanup() {
  # Only the processes this script started, by PID.
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null || true
  [ -n "$nats_pid" ] && kill "$nats_pid" 2>/dev/null && wait "$nats_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

nats_port="$(free_port)"
"$nats_server" -a 127.0.0.1 -p "$nats_port" -js -sd "$work/js" >"$work/nats.log" 2>&1 &
nats_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null && break; sleep 0.1; done

start_app() { # mode round
  local flag=() port; port="$(free_port)"
  case "$1" in
    stock) flag=(--stock) ;;
    nats-direct) flag=(--no-near-cache) ;;
  esac
  # No demo board (its devices and near caches write in the background), and the 20 min idle timeout sessions had
  # before the demo's 30 s. Buckets are shared across starts; every run logs in anew, so it only reads its own sessions.
  NATS_URL="nats://127.0.0.1:$nats_port" dotnet "$app_dll" --port "$port" --no-board --idle-seconds 1200 "${flag[@]}" >"$work/app-$1-$2.log" 2>&1 &
  app_pid=$!
  app_url="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -sf "$app_url/api/stats" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "app ($1) did not start:" >&2; cat "$work/app-$1-$2.log" >&2; exit 1
}
stop_app() { kill "$app_pid" 2>/dev/null; wait "$app_pid" 2>/dev/null || true; app_pid=""; }

declare -A results
echo "wrk $duration, $conns connections (one session each), $rounds rounds; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
reversed="$(tr ' ' '\n' <<<"$modes" | sed '/^$/d' | tac | tr '\n' ' ')"
for r in $(seq "$rounds"); do
  order="$modes"; [ $((r % 2)) -eq 0 ] && order="$reversed"
  for mode in $order; do
    start_app "$mode" "$r"
    # Log in one session per connection: the Set-Cookie of each first request, one cookie per line.
    export SESSION_COOKIES="$work/cookies-$mode-$r"
    : >"$SESSION_COOKIES"
    for _ in $(seq "$conns"); do
      curl -s -o /dev/null -D - -X POST "$app_url/api/counter" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' >>"$SESSION_COOKIES"
    done
    [ "$(sort -u "$SESSION_COOKIES" | wc -l)" -eq "$conns" ] || { echo "login did not give $conns distinct cookies" >&2; exit 1; }
    # Warm-up of both paths: on 2 cores tiered JIT still took ~30% of the app's CPU after 3 s of load, which made
    # the first measured workload mostly a JIT benchmark. Also starts the near cache's watch.
    for path in write read; do
      "$wrk" -t "$conns" -c "$conns" -d "$warmup" -s "$here/session.lua" "$app_url" -- "/bench/$path" >/dev/null
    done
    for path in read write; do
      app0="$(cpu_ticks "$app_pid")" nats0="$(cpu_ticks "$nats_pid")"
      # `times` in the subshell: user and system time of wrk itself (its last line), the load generator's share.
      out="$("$wrk" -t "$conns" -c "$conns" -d "$duration" -s "$here/session.lua" "$app_url" -- "/bench/$path"; times)"
      app1="$(cpu_ticks "$app_pid")" nats1="$(cpu_ticks "$nats_pid")"
      rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
      n="$(awk '/requests in/ {print $1}' <<<"$out")"
      wrk_s="$(tail -n 1 <<<"$out" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] } print t }')"
      cpu="$(awk -v a=$((app1 - app0)) -v s=$((nats1 - nats0)) -v w="$wrk_s" -v n="$n" -v hz="$hz" 'BEGIN {printf "cpu/req: app %.0f us, nats-server %.0f us, wrk %.0f us", a / hz * 1e6 / n, s / hz * 1e6 / n, w * 1e6 / n}')"
      bad="$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")"
      errors="$(grep -E '^ +Socket errors:' <<<"$out" || true)"
      results["$mode-$path"]+="$rps "
      printf 'round %d %-11s %-5s %10s req/s  %s  (non-2xx: %s%s)\n' "$r" "$mode" "$path" "$rps" "$cpu" "${bad:-0}" "${errors:+; $errors}"
    done
    [ "$mode" != stock ] && echo "  store statistics: $(curl -s "$app_url/api/stats")"
    stop_app
  done
done

median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "median req/s:"
for path in read write; do
  s="$(median "${results[stock-$path]:-}")"
  line="$(printf '  %-5s stock=%s' "$path" "$s")"
  for mode in $modes; do
    [ "$mode" = stock ] && continue
    n="$(median "${results[$mode-$path]}")"
    line+="$(printf ' %s=%s (%.2fx)' "$mode" "$n" "$(awk -v a="$n" -v b="${s:-0}" 'BEGIN {print (b > 0 ? a/b : 0)}')")"
  done
  echo "$line"
done

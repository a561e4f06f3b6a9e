// KV peer benchmarks with the official JS client (@nats-io/kv 3.4.x), the JS side of the KV metrics of
// ./build.sh bench. Our side arrives with our KV API; until then these run on their own.
//
// Usage: node js/bench/kv.mjs <mode> --url nats://127.0.0.1:PORT --bucket NAME [options]   (one JSON line out)
//        node js/bench/kv.mjs serve --url ... --bucket NAME   (one JSON command per stdin line, e.g.
//          {"op":"get-inflight","size":1024,"count":50000}; one JSON result line each; end of stdin exits)
//
// The bucket is opened if it exists, else created like a cache bucket: history 1, markerTTL 2000 ms (so
// allow_msg_ttl is on and expiries write MaxAge markers), file storage.
//
// Modes (options, defaults):
//   get           sequential get latency      --size 256 --count 5000 --keys 1000
//                 (puts --keys keys of --size bytes first, then gets them round-robin)
//   put           sequential put latency      --size 256 --count 5000 --keys 1000
//   get-inflight  get ops/s, N in flight      --size 256 --count 50000 --keys 1000 --inflight 64
//   put-inflight  put ops/s, N in flight      --size 256 --count 50000 --keys 1000 --inflight 64
//   create-ttl    create(key, value, ttl) of unique keys, N in flight: ops/s
//                                             --size 256 --count 20000 --inflight 64 --ttl 60s
//   watch-latency a watcher (updates only) sees --count sequential puts: time from put start to delivery
//                                             --size 256 --count 1000
//   watch-expiry  a watcher (updates only) is started, --count unique keys are created with --ttl (at --rate per s)
//                 (N in flight), then the run waits (at most --wait-ms) for one MaxAge marker per key
//                                             --size 256 --count 20000 --inflight 64 --ttl 2s --wait-ms 30000
//
// Results: get/put {"op","size","count","p50_us","p90_us","p99_us","mean_us","ops_per_s"}
//          *-inflight, create-ttl {"op","size","count","inflight","seconds","ops_per_s"}
//          watch-expiry {"op","count","received","seconds","markers_per_s","lag_p50_ms","lag_p99_ms"}
//            seconds = first to last marker delivered; lag = delivery time - (create ack time + ttl).
// Sizes to run for the metrics: 256 and 1024 (1 KiB).
import { connect } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { createInterface } from "node:readline";
import { emit, intArg, latencySummary, loopbackUrl, nowNs, parseArgs, payload, percentile } from "./lib.mjs";

const MARKER_TTL_MS = 2000;
let runId = 0;

/** Keys unique to one run, so create() never meets a key (or marker) left by an earlier run. */
function runPrefix() {
  runId++;
  return `r${process.pid}x${runId}x${Date.now().toString(36)}`;
}

/** Parses "2s", "1500ms", "1m" or plain seconds into milliseconds (only for lag bookkeeping). */
function ttlMs(ttl) {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(String(ttl));
  if (!m) throw new Error(`--ttl ${ttl}: use e.g. 2s, 1500ms, 1m`);
  const n = Number(m[1]);
  return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "s"]);
}

async function openBucket(nc, bucket) {
  const kvm = new Kvm(nc);
  try {
    // open() binds without asking the server, so status() is what proves the bucket exists.
    const kv = await kvm.open(bucket);
    await kv.status();
    return kv;
  } catch {
    return await kvm.create(bucket, { history: 1, markerTTL: MARKER_TTL_MS });
  }
}

async function populate(kv, keys, data) {
  const prefix = runPrefix();
  const names = Array.from({ length: keys }, (_, i) => `${prefix}.k${i}`);
  await runInflight(names.length, 64, (i) => kv.put(names[i], data));
  return names;
}

/** Runs op(i) for i in [0, count) with at most `inflight` outstanding. */
async function runInflight(count, inflight, op) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await op(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inflight, count) }, worker));
}

async function sequential(kv, p, isGet) {
  const data = payload(p.size);
  const names = await populate(kv, p.keys, data);
  const samples = new Float64Array(p.count);
  for (let i = 0; i < p.count; i++) {
    const key = names[i % names.length];
    const t0 = nowNs();
    if (isGet) {
      const e = await kv.get(key);
      if (!e) throw new Error(`get ${key}: missing`);
    } else {
      await kv.put(key, data);
    }
    samples[i] = nowNs() - t0;
  }
  const s = latencySummary(samples);
  return { op: isGet ? "get" : "put", size: p.size, ...s, ops_per_s: 1e6 / s.mean_us };
}

async function inflight(kv, p, isGet) {
  const data = payload(p.size);
  const names = await populate(kv, p.keys, data);
  const start = nowNs();
  await runInflight(p.count, p.inflight, async (i) => {
    const key = names[i % names.length];
    if (isGet) {
      if (!(await kv.get(key))) throw new Error(`get ${key}: missing`);
    } else {
      await kv.put(key, data);
    }
  });
  const seconds = (nowNs() - start) / 1e9;
  return { op: isGet ? "get-inflight" : "put-inflight", size: p.size, count: p.count, inflight: p.inflight, seconds, ops_per_s: p.count / seconds };
}

async function createTtl(kv, p) {
  const data = payload(p.size);
  const prefix = runPrefix();
  const start = nowNs();
  await runInflight(p.count, p.inflight, (i) => kv.create(`${prefix}.c${i}`, data, p.ttl));
  const seconds = (nowNs() - start) / 1e9;
  return { op: "create-ttl", size: p.size, count: p.count, inflight: p.inflight, ttl: p.ttl, seconds, ops_per_s: p.count / seconds };
}

async function watchExpiry(kv, p) {
  const data = payload(p.size);
  const prefix = runPrefix();
  const ttl = ttlMs(p.ttl);
  const created = new Map();
  const lags = [];
  let first = 0;
  let last = 0;
  let done;
  const allSeen = new Promise((resolve) => (done = resolve));
  const watcher = await kv.watch({ key: `${prefix}.>`, include: "updates" });
  (async () => {
    for await (const e of watcher) {
      // The client maps a MaxAge marker to operation PURGE; our own creates arrive as PUT and are skipped.
      if (e.operation !== "PURGE") continue;
      const t = nowNs();
      const at = created.get(e.key);
      if (at !== undefined) lags.push((t - at) / 1e6 - ttl);
      if (first === 0) first = t;
      last = t;
      if (lags.length >= p.count) done();
    }
  })();
  // --rate paces the creates (per second; 0 = as fast as the client goes): the server's expiry work per second
  // follows the create rate, so two clients compare fairly only at the same rate.
  const start = nowNs();
  await runInflight(p.count, p.inflight, async (i) => {
    if (p.rate > 0) {
      const waitMs = (start + (i * 1e9) / p.rate - nowNs()) / 1e6;
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    }
    const key = `${prefix}.w${i}`;
    await kv.create(key, data, p.ttl);
    created.set(key, nowNs());
  });
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, ttl + p["wait-ms"])));
  await Promise.race([allSeen, timeout]);
  // A pending timer would keep node alive for the whole --wait-ms after the result is printed.
  clearTimeout(timer);
  watcher.stop();
  lags.sort((a, b) => a - b);
  const seconds = last > first ? (last - first) / 1e9 : 0;
  return {
    op: "watch-expiry",
    count: p.count,
    received: lags.length,
    seconds,
    markers_per_s: seconds > 0 ? lags.length / seconds : 0,
    lag_p50_ms: percentile(lags, 50),
    lag_p99_ms: percentile(lags, 99),
  };
}

/**
 * Write-to-watcher latency: a watcher (updates only) on a run prefix, then --count sequential puts; each sample is the
 * time from starting the put to the watcher delivering it (the peer of our near-cache cross-instance invalidation).
 */
async function watchLatency(kv, p) {
  const data = payload(p.size);
  const prefix = runPrefix();
  const watcher = await kv.watch({ key: `${prefix}.>`, include: "updates" });
  let waiting = null;
  (async () => {
    for await (const e of watcher) {
      if (waiting && e.key === waiting.key) waiting.resolve(nowNs());
    }
  })();
  // The watcher's consumer is created asynchronously: a first put proves it is live.
  for (;;) {
    const seen = new Promise((resolve) => (waiting = { key: `${prefix}.probe`, resolve }));
    await kv.put(`${prefix}.probe`, data);
    const t = await Promise.race([seen, new Promise((r) => setTimeout(() => r(0), 500))]);
    if (t) break;
  }
  const samples = new Float64Array(p.count);
  for (let i = 0; i < p.count; i++) {
    const key = `${prefix}.k${i % 16}`;
    const seen = new Promise((resolve) => (waiting = { key, resolve }));
    const t0 = nowNs();
    await kv.put(key, data);
    samples[i] = (await seen) - t0;
  }
  watcher.stop();
  return { op: "watch-latency", size: p.size, count: p.count, ...latencySummary(samples) };
}

const ops = {
  get: (kv, p) => sequential(kv, p, true),
  put: (kv, p) => sequential(kv, p, false),
  "get-inflight": (kv, p) => inflight(kv, p, true),
  "put-inflight": (kv, p) => inflight(kv, p, false),
  "create-ttl": createTtl,
  "watch-expiry": watchExpiry,
  "watch-latency": watchLatency,
};

const defaults = {
  get: { count: 5000 },
  put: { count: 5000 },
  "get-inflight": { count: 50_000 },
  "put-inflight": { count: 50_000 },
  "create-ttl": { count: 20_000, ttl: "60s" },
  "watch-expiry": { count: 20_000, ttl: "2s" },
  "watch-latency": { count: 1000 },
};

/** Defaults per mode, then numeric options from argv strings or JSON numbers. */
function params(op, src) {
  const p = { size: 256, keys: 1000, inflight: 64, "wait-ms": 30_000, rate: 0, ...defaults[op], ...src };
  for (const k of ["size", "count", "keys", "inflight", "wait-ms", "rate"]) p[k] = intArg(p, k, undefined);
  if (p.count < 1 || p.keys < 1 || p.inflight < 1) throw new Error("count, keys and inflight must be >= 1");
  return p;
}

async function serve(kv) {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line);
    if (cmd.op === "quit") break;
    if (!ops[cmd.op]) {
      emit({ error: `unknown op ${cmd.op}` });
      continue;
    }
    try {
      emit(await ops[cmd.op](kv, params(cmd.op, cmd)));
    } catch (err) {
      emit({ error: String(err?.message ?? err) });
    }
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const mode = args._[0];
  if ((mode !== "serve" && !ops[mode]) || !args.bucket || args.bucket === true) {
    console.error(`usage: node kv.mjs <${[...Object.keys(ops), "serve"].join("|")}> --url nats://127.0.0.1:PORT --bucket NAME [options]`);
    process.exit(2);
  }
  const nc = await connect({ servers: loopbackUrl(args), name: `js-bench-kv-${mode}` });
  try {
    const kv = await openBucket(nc, args.bucket);
    if (mode === "serve") {
      emit({ ready: true, bucket: args.bucket });
      await serve(kv);
    } else {
      const { _, url, bucket, ...rest } = args;
      emit(await ops[mode](kv, params(mode, rest)));
    }
  } finally {
    await nc.close();
  }
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});

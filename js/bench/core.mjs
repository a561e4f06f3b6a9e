// Core NATS peer benchmarks with the official JS client (@nats-io/transport-node 3.4.x).
//
// The .NET harness (bench/CacheProvider.Bench) runs this as the "peer" side of each metric and compares it
// with our client against the same nats-server, measured the same way.
//
// Usage (one measurement, one JSON line on stdout):
//   node js/bench/core.mjs publish          --url nats://127.0.0.1:4222 --subject bench.pub --count 1000000 --size 128
//   node js/bench/core.mjs request          --url ... --subject bench.echo --count 10000 --size 128
//   node js/bench/core.mjs request-inflight --url ... --subject bench.echo --count 200000 --size 128 --inflight 64
//   node js/bench/core.mjs serve            --url ...
//     serve: stays connected and reads one JSON command per stdin line, e.g.
//       {"op":"publish","subject":"bench.pub","count":1000000,"size":128}
//     answering each with one JSON line; {"op":"quit"} or end of stdin exits. The harness uses this so that
//     warm-up and measured runs share one process (a warm JIT), like our side does.
//
// Results:
//   publish          {"op","count","seconds","msgs_per_s"}          PUB loop, then flush() (PING/PONG round trip)
//   request          {"op","count","p50_us","p90_us","p99_us","mean_us"}  sequential request() calls
//   request-inflight {"op","count","seconds","msgs_per_s"}          `inflight` concurrent request loops
//
// request/request-inflight need a responder on the subject: node js/bench/responder.mjs.
import { connect } from "@nats-io/transport-node";
import { createInterface } from "node:readline";
import { emit, intArg, latencySummary, loopbackUrl, nowNs, parseArgs, payload } from "./lib.mjs";

async function publish(nc, { subject = "bench.pub", count = 1_000_000, size = 128 }) {
  const data = payload(size);
  const start = nowNs();
  for (let i = 0; i < count; i++) {
    nc.publish(subject, data);
  }
  // The clock stops when the server has processed everything: same definition as our FlushAsync.
  await nc.flush();
  const seconds = (nowNs() - start) / 1e9;
  return { op: "publish", count, seconds, msgs_per_s: count / seconds };
}

async function request(nc, { subject = "bench.echo", count = 10_000, size = 128, timeout = 5000 }) {
  const data = payload(size);
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = nowNs();
    await nc.request(subject, data, { timeout });
    samples[i] = nowNs() - t0;
  }
  return { op: "request", ...latencySummary(samples) };
}

async function requestInflight(nc, { subject = "bench.echo", count = 200_000, size = 128, inflight = 64, timeout = 5000 }) {
  const data = payload(size);
  let issued = 0;
  const worker = async () => {
    while (issued < count) {
      issued++;
      await nc.request(subject, data, { timeout });
    }
  };
  const start = nowNs();
  await Promise.all(Array.from({ length: inflight }, worker));
  const seconds = (nowNs() - start) / 1e9;
  return { op: "request-inflight", count, inflight, seconds, msgs_per_s: count / seconds };
}

const ops = { publish, request, "request-inflight": requestInflight };

/** Normalises numeric fields whether they came from argv strings or JSON numbers. */
function params(src) {
  const p = { ...src };
  for (const k of ["count", "size", "inflight", "timeout"]) {
    if (p[k] !== undefined) p[k] = intArg(p, k, undefined);
  }
  return p;
}

async function serve(nc) {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line);
    if (cmd.op === "quit") break;
    const fn = ops[cmd.op];
    if (!fn) {
      emit({ error: `unknown op ${cmd.op}` });
      continue;
    }
    try {
      emit(await fn(nc, params(cmd)));
    } catch (err) {
      emit({ error: String(err?.message ?? err) });
    }
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const mode = args._[0];
  if (mode !== "serve" && !ops[mode]) {
    console.error(`usage: node core.mjs <${[...Object.keys(ops), "serve"].join("|")}> --url nats://127.0.0.1:PORT [...]`);
    process.exit(2);
  }
  const nc = await connect({ servers: loopbackUrl(args), name: `js-bench-${mode}` });
  try {
    if (mode === "serve") {
      emit({ ready: true });
      await serve(nc);
    } else {
      emit(await ops[mode](nc, params(args)));
    }
  } finally {
    await nc.close();
  }
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});

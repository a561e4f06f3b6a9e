// Shared helpers for the peer benchmark scripts: argument parsing, timing, percentiles, JSON output.
// Kept dependency-free so every script measures the NATS client and nothing else.

/** Parses `--key value` pairs (and bare `--flag`) into an object; positional words go to `_`. */
export function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--")) {
      const key = a.slice(2);
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) {
        out[key] = true;
      } else {
        out[key] = next;
        i++;
      }
    } else {
      out._.push(a);
    }
  }
  return out;
}

/** Integer option with a default; rejects garbage instead of silently benchmarking NaN messages. */
export function intArg(args, key, dflt) {
  if (args[key] === undefined) return dflt;
  const v = Number.parseInt(args[key], 10);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${key} must be a non-negative integer, got ${args[key]}`);
  return v;
}

/** Only loopback: the benchmarks must never send traffic anywhere else. */
export function loopbackUrl(args) {
  const url = args.url ?? "nats://127.0.0.1:4222";
  const host = new URL(url.replace(/^nats:/, "http:")).hostname;
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]") {
    throw new Error(`refusing non-loopback server ${url}`);
  }
  return url;
}

/** High-resolution clock in nanoseconds (bigint → number is exact for a benchmark's duration). */
export const nowNs = () => Number(process.hrtime.bigint());

/** Nearest-rank percentile of an already sorted numeric array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** Latency summary in microseconds from a Float64Array of nanosecond samples. */
export function latencySummary(samplesNs) {
  const sorted = Float64Array.from(samplesNs).sort();
  const us = (ns) => ns / 1000;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50_us: us(percentile(sorted, 50)),
    p90_us: us(percentile(sorted, 90)),
    p99_us: us(percentile(sorted, 99)),
    mean_us: sorted.length ? us(sum / sorted.length) : 0,
  };
}

/** A payload of `size` bytes that is not all zeros (some transports special-case zero pages). */
export function payload(size) {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = 97 + (i % 26);
  return b;
}

/** One JSON result per line on stdout: the harness reads exactly this. */
export function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

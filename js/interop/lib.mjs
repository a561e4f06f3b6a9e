// Shared helpers for the interop scripts the C# tests run (tests/Nats.Tests/KeyValue/InteropTests.cs).
// Every script takes the server URL first, prints JSON on stdout and exits non-zero with the error on stderr.
import { connect } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";

/** Connects to the URL given as the first argument and returns the connection and a KV manager. */
export async function open(url) {
  if (!url) throw new Error("usage: node <script>.mjs <server-url> ...");
  const nc = await connect({ servers: url, timeout: 10_000 });
  return { nc, kvm: new Kvm(nc) };
}

/** The parts of an entry the tests compare; null when the key has no stored message. */
export function entryJson(e) {
  if (!e) return null;
  return { key: e.key, value: e.string(), revision: e.revision, operation: e.operation, length: e.length };
}

/** Drains an async iterator of keys into a sorted array. */
export async function collectKeys(iter) {
  const keys = [];
  for await (const k of iter) keys.push(k);
  return keys.sort();
}

export function print(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

/** Runs main, printing a failure to stderr with exit code 1 (the C# side shows stderr). */
export function run(main) {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}

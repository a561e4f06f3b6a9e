// The one echo responder both clients' request benchmarks talk to, so that a difference in request latency is
// the requesting client's, not the responder's.
//
// Usage: node js/bench/responder.mjs --url nats://127.0.0.1:PORT --subject bench.echo
// Prints {"ready":true,"subject":...} once the subscription is registered at the server (after a flush), echoes
// every request's payload back to its reply subject, and exits on SIGTERM/SIGINT or when stdin closes (so it
// never outlives the harness that started it).
import { connect } from "@nats-io/transport-node";
import { emit, loopbackUrl, parseArgs } from "./lib.mjs";

const args = parseArgs(process.argv.slice(2));
const subject = args.subject ?? "bench.echo";
const nc = await connect({ servers: loopbackUrl(args), name: "js-bench-responder" });
let served = 0;
// A callback subscription: no async iterator hop between the socket and respond().
nc.subscribe(subject, {
  callback: (err, msg) => {
    if (err) return;
    msg.respond(msg.data);
    served++;
  },
});
await nc.flush();
emit({ ready: true, subject });

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await nc.drain().catch(() => {});
  console.error(`responder: served ${served} requests`);
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();

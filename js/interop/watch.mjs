// node watch.mjs <url> <bucket> <key-filter> <stop-key> <stop-operation> <timeout-ms>
// Watches updates only with the official client. Prints {"ready":true} once the watcher is in place, then one JSON
// line per entry, and exits after an entry for <stop-key> with <stop-operation> (or fails after the timeout).
import { entryJson, open, print, run } from "./lib.mjs";
import { KvWatchInclude } from "@nats-io/kv";

run(async () => {
  const [url, bucket, filter, stopKey, stopOp, timeoutMs] = process.argv.slice(2);
  const { nc, kvm } = await open(url);
  const kv = await kvm.open(bucket);
  const watcher = await kv.watch({ key: filter, include: KvWatchInclude.UpdatesOnly });
  const timer = setTimeout(() => {
    process.stderr.write(`watch.mjs: no ${stopOp} for '${stopKey}' within ${timeoutMs} ms\n`);
    process.exit(2);
  }, Number.parseInt(timeoutMs, 10));
  print({ ready: true });
  for await (const e of watcher) {
    print({ entry: entryJson(e) });
    if (e.key === stopKey && e.operation === stopOp) break;
  }
  clearTimeout(timer);
  watcher.stop();
  await nc.close();
});

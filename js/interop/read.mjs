// node read.mjs <url> <bucket> [key...]
// Opens an existing bucket with the official client and prints its keys(), the get() of each key and its status.
import { collectKeys, entryJson, open, print, run } from "./lib.mjs";

run(async () => {
  const [url, bucket, ...keys] = process.argv.slice(2);
  const { nc, kvm } = await open(url);
  const kv = await kvm.open(bucket);
  const entries = {};
  for (const k of keys) entries[k] = entryJson(await kv.get(k));
  const status = await kv.status();
  print({
    keys: await collectKeys(await kv.keys()),
    entries,
    status: { values: status.values, history: status.history, markerTTL: status.markerTTL },
  });
  await nc.close();
});

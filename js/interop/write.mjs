// node write.mjs <url> <bucket> <markerTTLms> [key=value...]
// Creates (or opens) a bucket the way the official client does, with markerTTL when > 0, and puts the values.
// Prints the revision of each put and the stream configuration the client created.
import { open, print, run } from "./lib.mjs";

run(async () => {
  const [url, bucket, markerTtl, ...pairs] = process.argv.slice(2);
  const { nc, kvm } = await open(url);
  const ms = Number.parseInt(markerTtl ?? "0", 10);
  const kv = await kvm.create(bucket, ms > 0 ? { markerTTL: ms } : {});
  const revisions = {};
  for (const p of pairs) {
    const i = p.indexOf("=");
    if (i <= 0) throw new Error(`expected key=value, got '${p}'`);
    revisions[p.slice(0, i)] = await kv.put(p.slice(0, i), p.slice(i + 1));
  }
  const si = (await kv.status()).streamInfo;
  print({ revisions, config: si.config });
  await nc.close();
});

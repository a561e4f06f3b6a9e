// node create-ttl.mjs <url> <bucket> <key> <value> <ttl>
// kv.create(key, value, ttl) of @nats-io/kv 3.4: the third argument (named markerTTL there) becomes the
// message's Nats-TTL header, i.e. the key's own TTL (a Go duration like "1s"). The bucket needs allow_msg_ttl.
import { open, print, run } from "./lib.mjs";

run(async () => {
  const [url, bucket, key, value, ttl] = process.argv.slice(2);
  const { nc, kvm } = await open(url);
  const kv = await kvm.open(bucket);
  const revision = await kv.create(key, value, ttl);
  print({ revision });
  await nc.close();
});

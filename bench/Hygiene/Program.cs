// Tombstone hygiene: N set/remove cycles through NatsDistributedCache (remove = purge with a 1 s tombstone TTL)
// versus the same churn with a plain KV delete (a permanent tombstone per delete). Prints num_deleted, messages and
// bytes right after the churn, one marker TTL later, and after the last tombstone TTL has certainly passed.
// Usage: CacheProvider.Bench.Hygiene [cycles=100000] [--no-pin] [--url nats://...]   (default: starts its own nats-server)
using System.Diagnostics;
using System.Globalization;
using CacheProvider.Caching;
using CacheProvider.KeyValue;
using CacheProvider.Testing;
using NATS.Client.Core;
using Microsoft.Extensions.Caching.Distributed;

var cycles = args.FirstOrDefault(a => char.IsDigit(a[0])) is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : 100_000;
var pin = !args.Contains("--no-pin");
var urlIndex = Array.IndexOf(args, "--url");
NatsServer? server = urlIndex >= 0 ? null : await NatsServer.StartAsync();
var url = urlIndex >= 0 ? args[urlIndex + 1] : server!.Url;
var markerTtl = TimeSpan.FromSeconds(2);
const int Concurrency = 64;
var value = new byte[256];

try
{
    await using var nats = new NatsConnection(NatsOpts.Default with { Url = url });
    var kv = new KvContext(nats);
    Console.WriteLine($"{cycles:N0} set/remove cycles, distinct keys, 256 B values, {Concurrency} in flight, marker TTL {markerTtl.TotalSeconds}s, first_seq pinned by a long-lived key: {pin}");

    // 1. Through the cache: Set (TTL 10 min) then Remove (purge with tombstone TTL 1 s).
    var cacheOptions = new NatsDistributedCacheOptions { Bucket = "hyg_cache", LimitMarkerTtl = markerTtl };
    await using (var cache = new NatsDistributedCache(nats, cacheOptions))
    {
        var entry = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };
        if (pin)
        {
            await cache.SetAsync("pinned", value, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromDays(30) });
        }

        await RunAsync("cache (remove = purge+TTL)", "hyg_cache", async i =>
        {
            await cache.SetAsync("key" + i, value, entry);
            await cache.RemoveAsync("key" + i);
        });
    }

    // 2. Plain KV: put with the same TTL, then delete (the usual way: a permanent tombstone per delete).
    var plain = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "hyg_plain", LimitMarkerTtl = markerTtl });
    if (pin)
    {
        await plain.PutAsync("pinned", value);
    }

    await RunAsync("plain KV delete", "hyg_plain", async i =>
    {
        await plain.PutAsync("key" + i, value, TimeSpan.FromMinutes(10));
        await plain.DeleteAsync("key" + i);
    });

    async Task RunAsync(string name, string bucket, Func<int, Task> cycle)
    {
        var next = -1;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < cycles)
            {
                await cycle(i);
            }
        }));
        sw.Stop();
        Console.WriteLine($"\n{name}: {cycles:N0} cycles in {sw.Elapsed.TotalSeconds:F1} s ({cycles * 2 / sw.Elapsed.TotalSeconds:N0} ops/s)");
        await PrintAsync("right after", bucket);
        await Task.Delay(markerTtl);
        await PrintAsync($"+{markerTtl.TotalSeconds:F0}s (one marker TTL)", bucket);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await PrintAsync($"+{markerTtl.TotalSeconds + 3:F0}s", bucket);
    }

    async Task PrintAsync(string when, string bucket)
    {
        var s = (await kv.GetStatusAsync(bucket)).StreamInfo.State;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {when,-26} num_deleted={s.NumDeleted,9:N0} messages={s.Messages,9:N0} bytes={s.Bytes,13:N0} first_seq={s.FirstSeq:N0} last_seq={s.LastSeq:N0}"));
    }
}
finally
{
    if (server is not null)
    {
        await server.DisposeAsync();
    }
}

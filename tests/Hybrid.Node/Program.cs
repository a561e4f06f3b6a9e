// One app node for the two-process tests (tests/Hybrid.Tests): a HybridCache over the NATS cache with cross-node
// invalidation, driven one command per line on stdin; every command gets exactly one reply line on stdout.
//   usage: CacheProvider.Hybrid.Node <nats-url> <bucket>
//   set K V [TTL_SECONDS] [TAG]   → ok             (HybridCache.SetAsync)
//   get K [TAG]                   → value V | miss (GetOrCreateAsync that reads L1, then L2; a miss stores nothing)
//   remove K                      → ok             (HybridCache.RemoveAsync)
//   removetag T                   → ok             (HybridCache.RemoveByTagAsync)
//   l1 K                          → held | absent  (whether the app's memory cache holds K)
//   applied                       → applied N      (changes of other nodes applied so far)
//   quit                          → bye, then exits
// The process exits when stdin closes (its parent went away), so a test that dies leaves nothing behind.
using CacheProvider.Caching;
using CacheProvider.Connection;
using CacheProvider.Hybrid;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

if (args.Length != 2)
{
    await Console.Error.WriteLineAsync("usage: CacheProvider.Hybrid.Node <nats-url> <bucket>");
    return 2;
}

var services = new ServiceCollection()
    .AddNatsConnection(o => o.Url = args[0])
    .AddNatsDistributedCache(o => o.Bucket = args[1])
    .AddHybridCache().Services
    .AddNatsHybridCacheInvalidation();
await using var sp = services.BuildServiceProvider();
foreach (var hosted in sp.GetServices<IHostedService>())
{
    await hosted.StartAsync(CancellationToken.None);
}

var invalidator = sp.GetRequiredService<NatsHybridCacheInvalidator>();
await invalidator.WhenActive.WaitAsync(TimeSpan.FromSeconds(30));
var hybrid = sp.GetRequiredService<HybridCache>();
var l1 = sp.GetRequiredService<IMemoryCache>();

// A miss runs no factory and stores nothing (HybridCache returns null): a get only ever reads L1, then L2.
var readOnly = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableUnderlyingData };
Console.Out.WriteLine("ready");
Console.Out.Flush();

while (await Console.In.ReadLineAsync() is { } line)
{
    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    if (parts.Length == 0)
    {
        continue;
    }

    string reply;
    try
    {
        switch (parts[0])
        {
            case "set":
                var options = parts.Length > 3 ? new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(int.Parse(parts[3])) } : null;
                await hybrid.SetAsync(parts[1], parts[2], options, tags: parts.Length > 4 ? [parts[4]] : null);
                reply = "ok";
                break;
            case "get":
                var value = await hybrid.GetOrCreateAsync<string?>(parts[1], _ => ValueTask.FromResult<string?>(null), readOnly, tags: parts.Length > 2 ? [parts[2]] : null);
                reply = value is null ? "miss" : "value " + value;
                break;
            case "remove":
                await hybrid.RemoveAsync(parts[1]);
                reply = "ok";
                break;
            case "removetag":
                await hybrid.RemoveByTagAsync(parts[1]);
                reply = "ok";
                break;
            case "l1":
                reply = l1.TryGetValue(parts[1], out _) ? "held" : "absent";
                break;
            case "applied":
                reply = "applied " + invalidator.Applied;
                break;
            case "quit":
                Console.Out.WriteLine("bye");
                Console.Out.Flush();
                return 0;
            default:
                reply = "error unknown command " + parts[0];
                break;
        }
    }
    catch (Exception ex)
    {
        reply = "error " + ex.GetType().Name + ": " + ex.Message.ReplaceLineEndings(" ");
    }

    Console.Out.WriteLine(reply);
    Console.Out.Flush();
}

return 0;

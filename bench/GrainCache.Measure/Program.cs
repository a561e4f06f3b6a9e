using CacheProvider.Bench.Reporting;
using System.Diagnostics;
using System.Globalization;
using CacheProvider.Caching;
using CacheProvider.GrainCache.Measure;
using CacheProvider.Grains.Caching;
using CacheProvider.KeyValue;
using CacheProvider.Testing;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;
using StackExchange.Redis;

// Issue #14 "Measure": the Orleans distributed cache (cache grains on NATS KV) in ONE run, one silo + a separate Orleans
// client in this process, a real nats-server and redis-server on free loopback ports (started and stopped by PID).
//   ./build.sh bench graincache [--seconds S] [--reps R] [--count N] [--no-directory-cache]
//   S = seconds per side per repetition of Get/Set (default 2), R = repetitions (default 5), N = entries of the expiry
//   run (default 100,000); --no-directory-cache turns off the silo's grain-directory cache (Orleans keeps ≈ 300 B per
//   deactivated grain there, for both sides; off, the memory retained after expiry is the caches' own). Every line is `name: ours=… peer=… ratio=…`, ratio = ours/peer; for ops/s higher is better,
//   for activations, entries, memory and lag lower is better. A side that fails prints `name: error=…` and the run goes on.
// Peers: the direct NATS cache (AddNatsDistributedCache, same server, its own connection in the client host) and
// "ModCaches-style" persisted cache grains (one per key, value in memory, IPersistentState on Orleans' Redis storage,
// expiry by the grain's own timer; ModCaches' own idle-collection expiry gets a line of its own).
var seconds = 2.0;
var reps = 5;
var count = 100_000;
var ttl = TimeSpan.FromSeconds(5);
var directoryCache = !args.Contains("--no-directory-cache");
for (var i = 0; i < args.Length - 1; i++)
{
    switch (args[i])
    {
        case "--seconds" when double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var s) && s > 0:
            seconds = s;
            break;
        case "--reps" when int.TryParse(args[i + 1], out var r) && r > 0:
            reps = r;
            break;
        case "--count" when int.TryParse(args[i + 1], out var n) && n > 0:
            count = n;
            break;
    }
}

var total = Stopwatch.StartNew();
var serviceId = "gcm-" + Guid.NewGuid().ToString("N")[..8];
Console.WriteLine($"# GrainCache.Measure: one silo + an Orleans client (gateway over loopback), {Environment.ProcessorCount} cores, load average {LoadAverage()}");
Console.WriteLine($"# Get/Set: {Throughput.InFlight} in flight, 1 KiB, {seconds:0.#} s per side per repetition, {reps} repetitions (rotating order), medians; expiry: {count} entries, TTL {ttl.TotalSeconds:0} s");

NatsServer? nats = null;
RedisServer? redis = null;
NatsConnection? siloConnection = null;
NatsConnection? clientConnection = null;
ConnectionMultiplexer? redisClient = null;
IHost? silo = null;
IHost? client = null;
try
{
    nats = await NatsServer.StartAsync();
    siloConnection = await nats.ConnectAsync();
    clientConnection = await nats.ConnectAsync();
    string? redisError = null;
    try
    {
        redis = await RedisServer.StartAsync();
        redisClient = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
    }
    catch (Exception ex)
    {
        redisError = Report.Describe(ex);
        Console.WriteLine($"redis_server: error={redisError}");
    }

    var gatewayPort = NatsServer.FreePort();
    silo = await BenchSetup.StartSiloAsync(siloConnection, redis, serviceId, NatsServer.FreePort(), gatewayPort, directoryCache);
    client = await BenchSetup.StartClientAsync(clientConnection, serviceId, gatewayPort);
    var cluster = client.Services.GetRequiredService<IClusterClient>();
    var ours = client.Services.GetRequiredService<OrleansDistributedCache>();
    var direct = client.Services.GetRequiredService<NatsDistributedCache>();
    var peer = new PeerGrainCache<IPeerCacheGrain>(cluster);
    var peerIdle = new PeerGrainCache<IPeerIdleCacheGrain>(cluster);
    var collectionAge = silo.Services.GetRequiredService<IOptions<GrainCollectionOptions>>().Value.CollectionAge;

    // One write per side: buckets and Redis connections exist, first calls are not timed. A side that fails here is
    // reported as failed on each of its lines; the others run.
    var warm = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(2) };
    var oursError = await WarmUpAsync(ours, warm);
    var directError = await WarmUpAsync(direct, warm);
    var peerError = redisError ?? await WarmUpAsync(peer, warm);

    var kv = new KvContext(clientConnection);
    var markerTtl = TimeSpan.FromSeconds(10);
    try
    {
        markerTtl = (await kv.GetStatusAsync(BenchSetup.OursBucket)).LimitMarkerTtl;
    }
    catch (Exception ex)
    {
        Console.WriteLine($"# ours: bucket status: {Report.Describe(ex)} (waiting as for a 10 s marker TTL)");
    }

    var settle = markerTtl + TimeSpan.FromSeconds(2);
    Console.WriteLine($"# ours: bucket {BenchSetup.OursBucket} (memory storage), limit-marker TTL {markerTtl.TotalSeconds:0} s; peer: Redis 8 without persistence, Orleans binary serializer, DeleteStateOnClear; silo CollectionAge {collectionAge.TotalMinutes:0} min, grain-directory cache {(directoryCache ? "on (Orleans' default)" : "off")}");

    async Task<(long, string)> OursStored()
    {
        var status = await kv.GetStatusAsync(BenchSetup.OursBucket);
        return ((long)status.Messages, $"messages={status.Messages} keys={status.Keys}");
    }

    Func<Task<(long, string)>> PeerStored(string prefix) => async () =>
    {
        if (redisClient is null)
        {
            throw new InvalidOperationException("no redis-server");
        }

        var server = redisClient.GetServer(redisClient.GetEndPoints()[0]);
        long n = 0;
        await foreach (var _ in server.KeysAsync(pattern: "*" + prefix + "*", pageSize: 1000))
        {
            n++;
        }

        return (n, $"redis_keys={n}");
    };

    GrainType TypeOf<T>()
        where T : IGrainWithStringKey => cluster.GetGrain<T>("type").GetGrainId().Type;

    // 1. Expiry: ours first, then the peer, each on a quiet silo; the same wait after the last deadline for both.
    var phase = Stopwatch.StartNew();
    await using var observer = await nats.ConnectAsync();
    KvBucket? markerBucket = null;
    try
    {
        markerBucket = await new KvContext(observer).GetBucketAsync(BenchSetup.OursBucket);
    }
    catch (Exception ex)
    {
        Console.WriteLine($"# ours: no marker watch (lag breakdown): {Report.Describe(ex)}");
    }

    var oursSide = new ExpirySide("ours", ours, "xo-", TypeOf<ICacheGrain>(), OursStored, markerBucket);
    var peerSide = new ExpirySide("peer", peer, "xp-", TypeOf<IPeerCacheGrain>(), PeerStored("xp-"));
    var oursExpiry = oursError is null ? await TryExpiryAsync(oursSide, cluster, count, ttl, settle, waitForDrain: true) : (null, oursError);
    var peerExpiry = peerError is null ? await TryExpiryAsync(peerSide, cluster, count, ttl, settle, waitForDrain: true) : (null, peerError);
    PrintExpiry(count, ttl, settle, markerTtl, oursExpiry, peerExpiry);
    Console.WriteLine($"# expiry run took {phase.Elapsed.TotalSeconds:F0} s");

    // 2. ModCaches' own expiry (DelayDeactivation to the deadline, then idle collection): 1,000 entries each, side by side.
    phase.Restart();
    const int IdleCount = 1000;
    var oursIdleSide = new ExpirySide("ours", ours, "io-", oursSide.GrainType, OursStored);
    var peerIdleSide = new ExpirySide("peer", peerIdle, "ip-", TypeOf<IPeerIdleCacheGrain>(), PeerStored("ip-"));
    var idleOurs = oursError is null ? TryExpiryAsync(oursIdleSide, cluster, IdleCount, ttl, settle, waitForDrain: false) : Task.FromResult<(ExpiryResult?, string?)>((null, oursError));
    var idlePeer = peerError is null ? TryExpiryAsync(peerIdleSide, cluster, IdleCount, ttl, settle, waitForDrain: false) : Task.FromResult<(ExpiryResult?, string?)>((null, peerError));
    var (io, ioError) = await idleOurs;
    var (ip, ipError) = await idlePeer;
    var idleNote = $"(peer: ModCaches' own expiry, DelayDeactivation + idle collection, CollectionAge {collectionAge.TotalMinutes:0} min; measured {settle.TotalSeconds:0} s after the last deadline)";
    Report.Print($"graincache_{IdleCount}_entries_ttl{ttl.TotalSeconds:0}s_live_activations_vs_idle_collection", Of(io, ioError, r => r.Activations), Of(ip, ipError, r => r.Activations), "F0", idleNote);
    Report.Print($"graincache_{IdleCount}_entries_ttl{ttl.TotalSeconds:0}s_entries_left_vs_idle_collection", Of(io, ioError, r => r.StoredEntries), Of(ip, ipError, r => r.StoredEntries), "F0",
        $"(ours: whole KV bucket {io?.StoredDetail}; peer: Redis keys of these entries)");
    Console.WriteLine($"# idle-collection run took {phase.Elapsed.TotalSeconds:F0} s");

    // 3. Memory per live entry (after the expiry runs: the removals here leave tombstones of their own).
    phase.Restart();
    const int FootprintCount = 10_000;
    var footOurs = oursError is null ? await Expiry.FootprintAsync(ours, "fo-", FootprintCount) : Outcome.Failed(oursError);
    var footPeer = peerError is null ? await Expiry.FootprintAsync(peer, "fp-", FootprintCount) : Outcome.Failed(peerError);
    Report.Print($"graincache_managed_kib_per_live_entry_{FootprintCount}_entries", footOurs, footPeer, "F2",
        "(1 KiB value included; GC.GetTotalMemory after a full collection, silo + client process, with minus without the entries)");
    Console.WriteLine($"# footprint run took {phase.Elapsed.TotalSeconds:F0} s");

    // 4. Get/Set 1 KiB, 64 in flight.
    phase.Restart();
    await Throughput.MeasureAsync(new CacheSide("ours", ours, oursError), new CacheSide("nats_cache", direct, directError), new CacheSide("peer", peer, peerError), seconds, reps);
    Console.WriteLine($"# get/set run took {phase.Elapsed.TotalSeconds:F0} s");
}
catch (Exception ex)
{
    Console.WriteLine($"setup: error={Report.Describe(ex)}");
}
finally
{
    await Hosts.StopAsync(client, "client");
    await Hosts.StopAsync(silo, "silo");
    redisClient?.Dispose();
    if (clientConnection is not null)
    {
        await clientConnection.DisposeAsync();
    }

    if (siloConnection is not null)
    {
        await siloConnection.DisposeAsync();
    }

    if (redis is not null)
    {
        await redis.DisposeAsync();
    }

    if (nats is not null)
    {
        await nats.DisposeAsync();
    }
}

Console.WriteLine($"# total {total.Elapsed.TotalSeconds:F0} s, load average {LoadAverage()}");

static string LoadAverage()
{
    try
    {
        return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
    }
    catch (IOException)
    {
        return "n/a";
    }
}

static async Task<string?> WarmUpAsync(IDistributedCache cache, DistributedCacheEntryOptions options)
{
    try
    {
        await cache.SetAsync("warm-up", [1], options);
        return null;
    }
    catch (Exception ex)
    {
        return Report.Describe(ex);
    }
}

static async Task<(ExpiryResult? Result, string? Error)> TryExpiryAsync(ExpirySide side, IClusterClient cluster, int count, TimeSpan ttl, TimeSpan settle, bool waitForDrain)
{
    try
    {
        return (await Expiry.RunAsync(side, cluster, count, ttl, settle, waitForDrain), null);
    }
    catch (Exception ex)
    {
        return (null, Report.Describe(ex));
    }
}

static Outcome Of(ExpiryResult? result, string? error, Func<ExpiryResult, double> value) =>
    result is null ? Outcome.Failed(error ?? "no result") : Outcome.Of(value(result));

static Outcome Lag(ExpiryResult? result, string? error, Func<double[], double> value) =>
    result is null ? Outcome.Failed(error ?? "no result")
    : result.LagsMs.Length == 0 ? Outcome.Failed("no grain deactivated by the measuring moment")
    : Outcome.Of(value(result.LagsMs));

static void PrintExpiry(int count, TimeSpan ttl, TimeSpan settle, TimeSpan markerTtl, (ExpiryResult? Result, string? Error) ours, (ExpiryResult? Result, string? Error) peer)
{
    var (o, oe) = ours;
    var (p, pe) = peer;
    foreach (var (side, r) in new[] { ("ours", o), ("peer", p) })
    {
        if (r is not null)
        {
            var failures = r.Failed > 0 ? $", {r.Failed} sets failed ({r.FirstFailure})" : string.Empty;
            var drained = r.DrainedAfterSeconds is { } d ? $"{d:F0} s after the measuring moment" : "not within 60 s after it";
            Console.WriteLine($"# {side}: {r.Count} sets in {r.FillSeconds:F1} s ({r.Count / r.FillSeconds:F0}/s){failures}; {r.LiveAtFillEnd} live activations at the end of the fill; " +
                $"activations and stored entries 0: {drained}; managed {r.ManagedMbBefore:F0} → {r.ManagedMbAfter:F0} MiB, working set {r.WorkingSetMbBefore:F0} → {r.WorkingSetMbAfter:F0} MiB (process-wide, order-dependent: not compared)");
            if (r.LagBreakdown is { } breakdown)
            {
                Console.WriteLine($"# {side}: {breakdown}");
            }
        }
    }

    var name = $"graincache_{count}_entries_ttl{ttl.TotalSeconds:0}s";
    var when = $"measured {settle.TotalSeconds:0} s after the last deadline (ours' marker TTL {markerTtl.TotalSeconds:0} s + 2 s)";
    var activationsGoal = o is null ? string.Empty : $" goal ours=0 met={(o.Activations == 0 ? "yes" : "no")}";
    Report.Print($"{name}_live_activations_after_expiry", Of(o, oe, r => r.Activations), Of(p, pe, r => r.Activations), "F0", $"({when}; Orleans' management grain){activationsGoal}");
    var storedGoal = o is null ? string.Empty : $" goal ours=0 met={(o.StoredEntries == 0 ? "yes" : "no")}";
    Report.Print($"{name}_entries_left_in_store_after_expiry", Of(o, oe, r => r.StoredEntries), Of(p, pe, r => r.StoredEntries), "F0",
        $"(ours: KV bucket {o?.StoredDetail}; peer: Redis keys){storedGoal}");
    Report.Print($"{name}_managed_mib_retained_after_expiry", Of(o, oe, r => r.ManagedMbAfter - r.ManagedMbBefore), Of(p, pe, r => r.ManagedMbAfter - r.ManagedMbBefore), "F1",
        "(GC.GetTotalMemory after a full collection, silo + client process, after minus before the fill)");
    Report.Print($"{name}_fill_sets_per_s_{Throughput.InFlight}_inflight", Of(o, oe, r => r.Count / r.FillSeconds), Of(p, pe, r => r.Count / r.FillSeconds), "F0",
        "(each Set activates a new grain and writes its store)");

    const double GoalP99 = 300;
    Report.Print("graincache_deactivation_after_deadline_grains", Of(o, oe, r => r.LagsMs.Length), Of(p, pe, r => r.LagsMs.Length), "F0",
        $"(of {count}, deactivated by the measuring moment; peer: its grain timer at the deadline)");
    Report.Print("graincache_deactivation_after_deadline_p50_ms", Lag(o, oe, l => Report.Percentile(l, 0.50)), Lag(p, pe, l => Report.Percentile(l, 0.50)), "F0",
        "(deadline taken on the client before the Set → the activation's Deactivated task completes, silo-side hook)");
    var p99 = Lag(o, oe, l => Report.Percentile(l, 0.99));
    Report.Print("graincache_deactivation_after_deadline_p99_ms", p99, Lag(p, pe, l => Report.Percentile(l, 0.99)), "F0",
        p99.Value is { } v ? $"goal ours<={GoalP99:F0} met={(v <= GoalP99 ? "yes" : "no")}" : null);
    Report.Print("graincache_deactivation_after_deadline_max_ms", Lag(o, oe, l => l[^1]), Lag(p, pe, l => l[^1]), "F0",
        $"(min: ours={(o is { LagsMs.Length: > 0 } ? o.LagsMs[0].ToString("F1") : "n/a")} peer={(p is { LagsMs.Length: > 0 } ? p.LagsMs[0].ToString("F1") : "n/a")}; negative = before the deadline)");
}

using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using CacheProvider.KeyValue;
using CacheProvider.Testing;
using NATS.Client.Core;

// Measurements on a 3-node loopback JetStream cluster (issue 9). Prints numbers; asserts nothing.
//   dotnet run --project bench/Cluster -c Release [-- seconds-per-throughput-run]
var seconds = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 3;
const int InFlight = 64;
var value = new byte[256];
Random.Shared.NextBytes(value);

await using var cluster = await NatsCluster.StartAsync();
Console.WriteLine($"cluster: {string.Join(", ", cluster.Names)}");

NatsConnection Connect(string? url = null) => new(NatsOpts.Default with { Url = url ?? cluster.Urls, RequestTimeout = TimeSpan.FromSeconds(2) });

// 1. Throughput and p99, R1 vs R3, 64 operations in flight on one connection.
await using (var nc = Connect())
{
    var kv = new KvContext(nc);
    foreach (var replicas in new[] { 1, 3 })
    {
        var bucket = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = $"tp{replicas}", Replicas = replicas });
        for (var i = 0; i < 1000; i++)
        {
            await bucket.PutAsync($"k{i}", value);
        }

        var set = await RunAsync(seconds, InFlight, async i => await bucket.PutAsync($"k{i % 1000}", value));
        var get = await RunAsync(seconds, InFlight, async i => await bucket.GetAsync($"k{i % 1000}"));
        var leaderGet = await RunAsync(seconds, InFlight, async i => await bucket.GetAsync($"k{i % 1000}", KvReadMode.Leader));
        Console.WriteLine($"R{replicas} set:        {set}");
        Console.WriteLine($"R{replicas} get direct: {get}");
        Console.WriteLine($"R{replicas} get leader: {leaderGet}");
    }
}

// 2. Kill the bucket leader under a sequential writer: time from the leader's death to the first acknowledged write
//    sent after it. No client retries (RetryBudget zero), so this is the server's election time plus one round trip.
await using (var nc = Connect())
{
    var kv = new KvContext(nc);
    var bucket = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "failover", Replicas = 3 });
    for (var round = 1; round <= 3; round++)
    {
        var leader = await cluster.GetStreamLeaderAsync(bucket.StreamName);
        long killedAt = 0;
        long firstAck = 0;
        var failures = 0;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    await bucket.PutAsync("k", new ReadOnlySequence<byte>(value), new KvPutOptions { MsgId = Guid.NewGuid().ToString("N"), RetryBudget = TimeSpan.Zero });
                    var k = Interlocked.Read(ref killedAt);
                    if (k != 0 && sent > k && Interlocked.Read(ref firstAck) == 0)
                    {
                        Interlocked.Exchange(ref firstAck, Stopwatch.GetTimestamp());
                    }
                }
                catch (NatsException)
                {
                    failures++;
                }
            }
        });
        await Task.Delay(500);
        await cluster.KillAsync(leader); // returns once the process is gone
        Interlocked.Exchange(ref killedAt, Stopwatch.GetTimestamp());
        while (Interlocked.Read(ref firstAck) == 0)
        {
            await Task.Delay(10);
        }

        await stop.CancelAsync();
        await writer;
        var newLeader = await cluster.GetStreamLeaderAsync(bucket.StreamName);
        Console.WriteLine($"failover round {round}: killed {cluster.Names[leader]}, first acknowledged write after {Stopwatch.GetElapsedTime(killedAt, firstAck).TotalMilliseconds:F0} ms ({failures} failed attempts), new leader {cluster.Names[newLeader]}");
        await cluster.StartAgainAsync(leader);
        await Task.Delay(2000); // let the restarted node catch up before the next round
    }
}

// 3. Stale reads per 100,000 Gets during continuous writes, per read mode. A read is stale when it returns a
//    revision older than one already acknowledged before the read was sent. Readers use a follower's connection.
{
    await using var writerConn = Connect();
    var kv = new KvContext(writerConn);
    var bucket = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "stale", Replicas = 3 });
    var leader = await cluster.GetStreamLeaderAsync(bucket.StreamName);
    var follower = (leader + 1) % cluster.Nodes.Count;
    await using var readerConn = Connect(cluster.Nodes[follower].Url);
    var readerBucket = await new KvContext(readerConn).GetBucketAsync("stale");
    const int Keys = 16;
    var acked = new long[Keys];
    using var stop = new CancellationTokenSource();
    var writers = Enumerable.Range(0, Keys).Select(k => Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var rev = await bucket.PutAsync($"k{k}", value);
                InterlockedMax(ref acked[k], (long)rev);
            }
            catch (NatsException)
            {
            }
        }
    })).ToList();
    await Task.Delay(500);
    foreach (var mode in new[] { KvReadMode.Direct, KvReadMode.Leader })
    {
        const int Gets = 100_000;
        long stale = 0, done = 0, errors = 0;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref done) <= Gets)
            {
                var k = Random.Shared.Next(Keys);
                var before = Volatile.Read(ref acked[k]);
                try
                {
                    var e = await readerBucket.GetAsync($"k{k}", mode);
                    if (e is null || (long)e.Revision < before)
                    {
                        Interlocked.Increment(ref stale);
                    }
                }
                catch (NatsException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })));
        Console.WriteLine($"stale reads, {mode} mode (reader on follower {cluster.Names[follower]}): {stale} per {Gets:N0} gets ({errors} errors, {Gets / sw.Elapsed.TotalSeconds:F0} gets/s during writes)");
    }

    await stop.CancelAsync();
    await Task.WhenAll(writers);
}

static void InterlockedMax(ref long target, long value)
{
    var current = Volatile.Read(ref target);
    while (value > current)
    {
        var seen = Interlocked.CompareExchange(ref target, value, current);
        if (seen == current)
        {
            return;
        }

        current = seen;
    }
}

static async Task<string> RunAsync(double seconds, int inFlight, Func<int, Task> op)
{
    var latencies = new ConcurrentBag<double[]>();
    var counter = -1;
    var errors = 0;
    var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
    var sw = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => Task.Run(async () =>
    {
        var mine = new List<double>();
        while (Stopwatch.GetTimestamp() < until)
        {
            var i = Interlocked.Increment(ref counter);
            var start = Stopwatch.GetTimestamp();
            try
            {
                await op(i);
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            catch (NatsException)
            {
                Interlocked.Increment(ref errors);
            }
        }

        latencies.Add([.. mine]);
    })));
    var all = latencies.SelectMany(x => x).Order().ToArray();
    var p50 = all.Length == 0 ? 0 : all[all.Length / 2];
    var p99 = all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))];
    return $"{all.Length / sw.Elapsed.TotalSeconds,8:F0} ops/s  p50 {p50:F2} ms  p99 {p99:F2} ms  ({errors} errors)";
}

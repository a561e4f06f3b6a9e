using System.Collections.Concurrent;
using System.Globalization;
using CacheProvider.KeyValue;
using static CacheProvider.KeyValue.Tests.KvTest;

namespace CacheProvider.KeyValue.Tests;

/// <summary>
/// The reliability case: kill -9 the server (file storage) while putting with 64 in flight, restart, repeat.
/// Every acknowledged put must be present afterwards, TTLs must still fire, and a watcher must resume without
/// skipping a change. 10 rounds (≈ 30 s); <c>KV_RELIABILITY_ROUNDS</c> overrides.
/// </summary>
public sealed class KvReliabilityTests(ITestOutputHelper output)
{
    private const int InFlight = 64;
    private const int KeySpace = 256;

    private static int Rounds =>
        int.TryParse(Environment.GetEnvironmentVariable("KV_RELIABILITY_ROUNDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 10;

    [Fact]
    public async Task Kill_9_during_64_in_flight_puts_loses_no_acknowledged_put_and_ttls_and_watch_survive()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = new NatsConnection(TestNats.Options(server.Url) with
        {
            ReconnectWaitMin = TimeSpan.FromMilliseconds(50),
            ReconnectWaitMax = TimeSpan.FromMilliseconds(250),

            // Requests cut off by the kill fail after this; short so the writers move on quickly.
            RequestTimeout = TimeSpan.FromSeconds(2),
        });
        await connection.ConnectAsync();
        var kv = new KvContext(connection);
        var bucket = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "rel", LimitMarkerTtl = TimeSpan.FromSeconds(2) });

        // key -> acknowledged (revision, value); the newest acknowledged revision must survive.
        var acked = new ConcurrentDictionary<string, (ulong Revision, string Value)>();
        var failures = 0;
        await using var watch = new WatchCollector(bucket, ">", new KvWatchOptions { IdleHeartbeat = TimeSpan.FromMilliseconds(500) });
        var seen = new List<KvEntry>();
        var counter = 0;

        for (var round = 0; round < Rounds; round++)
        {
            // A key that must expire although the server is killed before its deadline.
            var ttlKey = $"ttl.{round}";
            var ttlRev = await PutRetryingAsync(bucket, ttlKey, "expiring", TimeSpan.FromSeconds(1));

            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, InFlight).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var n = Interlocked.Increment(ref counter);
                    var key = $"k.{n % KeySpace}";
                    var value = $"v{n}";
                    try
                    {
                        var rev = await bucket.PutAsync(key, Bytes(value));
                        acked.AddOrUpdate(key, (rev, value), (_, old) => rev > old.Revision ? (rev, value) : old);
                    }
                    catch (NatsException)
                    {
                        // Cut off by the kill: not acknowledged, so no promise to keep.
                        Interlocked.Increment(ref failures);
                        await Task.Delay(20);
                    }
                }
            })).ToArray();

            await Task.Delay(300);
            await server.KillAsync();
            await server.StartAgainAsync();
            await EventuallyAsync(() => Task.FromResult(connection.ConnectionState == NatsConnectionState.Open), "reconnect");
            await Task.Delay(300); // writers keep going against the restarted server
            await stop.CancelAsync();
            await Task.WhenAll(writers).WaitAsync(Patience);

            // The TTL'd key, overdue or not, is expired by the restarted server and the watcher sees the marker.
            while (true)
            {
                var e = await watch.NextAsync();
                seen.Add(e);
                if (e.Key == ttlKey && e.MarkerReason == KvMarkerReason.Expired)
                {
                    Assert.True(e.Revision > ttlRev);
                    break;
                }
            }

            Assert.Null(await bucket.GetAsync(ttlKey, KvReadMode.Leader));
            await VerifyAcknowledgedAsync(bucket, acked);
            output.WriteLine($"round {round}: {acked.Count} keys acknowledged, {counter} puts tried, {failures} failed, watcher resyncs {watch.Resyncs}");
        }

        Assert.True(watch.Resyncs >= Rounds, $"watcher resynced {watch.Resyncs} times for {Rounds} restarts");

        // Drain the watcher: it must end on every key's current revision, having seen revisions in strictly increasing order.
        var last = await bucket.GetStatusAsync();
        while (seen.Count == 0 || seen[^1].Revision < last.StreamInfo.State.LastSeq)
        {
            seen.Add(await watch.NextAsync());
        }

        for (var i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i].Revision > seen[i - 1].Revision, $"revision {seen[i].Revision} after {seen[i - 1].Revision}: duplicate or out of order");
        }

        var lastSeenPerKey = seen.GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Max(e => e.Revision));
        foreach (var key in acked.Keys)
        {
            var current = await bucket.GetLastAsync(key, KvReadMode.Leader);
            Assert.Equal(current!.Revision, lastSeenPerKey.GetValueOrDefault(key));
        }
    }

    [Fact]
    public async Task Connections_cut_by_the_network_during_64_in_flight_puts_lose_no_acknowledged_put_and_the_watch_misses_nothing()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var proxy = new FaultProxy(server.Port);
        await using var connection = new NatsConnection(TestNats.Options(proxy.Url) with { RequestTimeout = TimeSpan.FromSeconds(2) });
        var disconnects = 0;
        connection.ConnectionDisconnected += (_, _) =>
        {
            Interlocked.Increment(ref disconnects);
            return default;
        };
        await connection.ConnectAsync();
        var bucket = await new KvContext(connection).CreateBucketAsync(new KvBucketConfig { Bucket = "cut", LimitMarkerTtl = TimeSpan.FromSeconds(2) });
        var acked = new ConcurrentDictionary<string, (ulong Revision, string Value)>();
        await using var watch = new WatchCollector(bucket, ">", new KvWatchOptions { IdleHeartbeat = TimeSpan.FromMilliseconds(500) });

        using var stop = new CancellationTokenSource();
        var counter = 0;
        var writers = Enumerable.Range(0, InFlight).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref counter);
                var key = $"k.{n % KeySpace}";
                try
                {
                    var rev = await bucket.PutAsync(key, Bytes($"v{n}"));
                    acked.AddOrUpdate(key, (rev, $"v{n}"), (_, old) => rev > old.Revision ? (rev, $"v{n}") : old);
                }
                catch (NatsException)
                {
                    await Task.Delay(20); // cut off: not acknowledged, no promise to keep
                }
            }
        })).ToArray();

        // The server stays up; only the path to it breaks, five times, while writes and the watch are in flight.
        const int Cuts = 5;
        for (var i = 0; i < Cuts; i++)
        {
            await Task.Delay(300);
            proxy.CutAll();
            await EventuallyAsync(() => Task.FromResult(connection.ConnectionState == NatsConnectionState.Open), "reconnect through the proxy");
        }

        await Task.Delay(300);
        await stop.CancelAsync();
        await Task.WhenAll(writers).WaitAsync(Patience);
        Assert.True(Volatile.Read(ref disconnects) >= Cuts, $"only {disconnects} disconnects for {Cuts} cuts");
        await VerifyAcknowledgedAsync(bucket, acked);

        // The watch ends on every key's current revision, in strictly increasing order, without duplicates.
        var seen = new List<KvEntry>();
        var last = (await bucket.GetStatusAsync()).StreamInfo.State.LastSeq;
        while (seen.Count == 0 || seen[^1].Revision < last)
        {
            seen.Add(await watch.NextAsync());
        }

        for (var i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i].Revision > seen[i - 1].Revision, $"revision {seen[i].Revision} after {seen[i - 1].Revision}");
        }

        var lastSeenPerKey = seen.GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Max(e => e.Revision));
        foreach (var key in acked.Keys)
        {
            Assert.Equal((await bucket.GetLastAsync(key, KvReadMode.Leader))!.Revision, lastSeenPerKey.GetValueOrDefault(key));
        }

        output.WriteLine($"{acked.Count} keys acknowledged of {counter} puts; {disconnects} disconnects; watch resyncs {watch.Resyncs}");
    }

    [Fact]
    public async Task Garbage_on_the_wire_costs_the_connection_not_the_bucket_and_the_watch_resumes()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var proxy = new FaultProxy(server.Port);
        await using var connection = new NatsConnection(TestNats.Options(proxy.Url));
        await connection.ConnectAsync();
        var bucket = await new KvContext(connection).CreateBucketAsync(new KvBucketConfig { Bucket = "garbage", LimitMarkerTtl = TimeSpan.FromSeconds(2) });
        // Latest values, not updates only: "before" arrives whether the watch's consumer exists before the put or after.
        await using var watch = new WatchCollector(bucket, ">", new KvWatchOptions { IdleHeartbeat = TimeSpan.FromMilliseconds(500) });
        await bucket.PutAsync("before", Bytes("1"));
        Assert.Equal("before", (await watch.NextAsync()).Key);

        // A frame no server sends: NATS.Net drops the connection and reconnects through the proxy.
        var accepted = proxy.Connections;
        await proxy.InjectToClientsAsync("MSG broken\r\n"u8.ToArray());
        await EventuallyAsync(() => Task.FromResult(proxy.Connections > accepted && connection.ConnectionState == NatsConnectionState.Open), "reconnect after garbage");

        var rev = await PutRetryingAsync(bucket, "after", "2", TimeSpan.FromSeconds(30));
        Assert.Equal("2", Text(await bucket.GetAsync("after")));
        var e = await watch.NextAsync();
        Assert.Equal(("after", rev), (e.Key, e.Revision));
    }

    private static async Task VerifyAcknowledgedAsync(KvBucket bucket, ConcurrentDictionary<string, (ulong Revision, string Value)> acked)
    {
        foreach (var (key, (revision, value)) in acked)
        {
            var e = await bucket.GetLastAsync(key, KvReadMode.Leader);
            Assert.True(e is not null, $"{key}: acknowledged revision {revision} lost, key is gone");

            // A put sent before the kill but never acknowledged may still have landed later: newer is fine, older is loss.
            Assert.True(e.Revision >= revision, $"{key}: acknowledged revision {revision} lost, server has {e.Revision}");
            if (e.Revision == revision)
            {
                Assert.Equal(value, Text(e));
            }
        }
    }

    private static async Task<ulong> PutRetryingAsync(KvBucket bucket, string key, string value, TimeSpan ttl)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                return await bucket.PutAsync(key, Bytes(value), ttl);
            }
            catch (NatsException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}

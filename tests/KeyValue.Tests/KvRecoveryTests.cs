using System.Collections.Concurrent;
using System.Diagnostics;
using CacheProvider.KeyValue;
using static CacheProvider.KeyValue.Tests.KvTest;

namespace CacheProvider.KeyValue.Tests;

/// <summary>
/// Issue #24: a lost connection ends the requests in flight at once (not after the request timeout), writes that can be
/// resent safely (compare-and-set, message id) are resent after the reconnect and stored once, and watches resume as
/// soon as the server is back. Time bounds are loose (a loaded 2-core box); the tight goals are measured in bench/.
/// </summary>
public sealed class KvRecoveryTests(ITestOutputHelper output)
{
    // Far above anything these tests tolerate: a request that ends is known not to have waited for its timeout.
    private static readonly TimeSpan LongRequestTimeout = TimeSpan.FromSeconds(30);

    // What "at once" and "soon after the server is back" may stretch to on a loaded machine.
    private static readonly TimeSpan Loose = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Requests_in_flight_when_the_network_drops_fail_at_once_writes_as_unknown_and_reads_as_connection_lost()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var proxy = new FaultProxy(server.Port);
        await using var connection = new NatsConnection(TestNats.Options(proxy.Url) with { RequestTimeout = LongRequestTimeout });
        await connection.ConnectAsync();
        var kv = new KvContext(connection, new KvContextOptions { ReadRetryBudget = TimeSpan.Zero });
        var bucket = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "cut" });
        await bucket.PutAsync("k", Bytes("v0"));

        // A frozen server: requests go out and nothing answers, so they are in flight when the path is cut.
        server.Pause();
        try
        {
            var writes = Enumerable.Range(0, 16).Select(i => Timed(() => bucket.PutAsync($"w{i}", ReadOnlySequenceOf("x"), new KvPutOptions())).AsTask()).ToArray();
            var plainWrites = Enumerable.Range(0, 16).Select(i => Timed(() => bucket.PutAsync($"p{i}", Bytes("x"))).AsTask()).ToArray();
            var reads = Enumerable.Range(0, 16).Select(_ => Timed(() => bucket.GetAsync("k")).AsTask()).ToArray();
            await Task.Delay(300);
            Assert.All(writes.Concat(plainWrites).Concat(reads), t => Assert.False(t.IsCompleted, "completed before the cut"));

            var cut = Stopwatch.StartNew();
            proxy.CutAll();
            var all = await Task.WhenAll(writes.Concat(plainWrites).Concat(reads)).WaitAsync(Patience);
            output.WriteLine($"all {all.Length} requests ended {cut.Elapsed.TotalMilliseconds:F0} ms after the cut");
            Assert.True(cut.Elapsed < Loose, $"requests in flight ended {cut.Elapsed.TotalMilliseconds:F0} ms after the cut (timeout {LongRequestTimeout})");
            Assert.All(all[..16], r => Assert.IsType<KvWriteOutcomeUnknownException>(r.Error));
            Assert.All(all[..16], r => Assert.IsType<KvConnectionLostException>(r.Error!.InnerException));
            Assert.All(all[16..], r => Assert.IsType<KvConnectionLostException>(r.Error));
        }
        finally
        {
            server.Resume();
        }

        // Back through the proxy once the server answers again.
        await EventuallyAsync(async () =>
        {
            try
            {
                return Text(await bucket.GetAsync("k")) == "v0";
            }
            catch (NatsException)
            {
                return false;
            }
        }, "reads after the cut");
    }

    [Fact]
    public async Task A_request_made_while_disconnected_waits_for_the_reconnect_and_then_succeeds_or_fails_clearly()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = new NatsConnection(TestNats.Options(server.Url) with { RequestTimeout = TimeSpan.FromSeconds(2) });
        await connection.ConnectAsync();
        var kv = new KvContext(connection, new KvContextOptions { ReadRetryBudget = TimeSpan.Zero, WriteRetryBudget = TimeSpan.Zero });
        var bucket = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "away" });
        await bucket.PutAsync("k", Bytes("v0"));

        await server.KillAsync();
        await EventuallyAsync(() => Task.FromResult(connection.ConnectionState != NatsConnectionState.Open), "disconnect noticed");

        // Down for longer than the request timeout: the request says the connection is down, not "no reply".
        var failed = await Assert.ThrowsAsync<KvTimeoutException>(async () => await bucket.GetAsync("k"));
        Assert.True(failed.NotConnected, failed.Message);
        output.WriteLine(failed.Message);

        // Back within its timeout: the request goes out after the reconnect and succeeds.
        var pending = bucket.GetAsync("k").AsTask();
        await Task.Delay(200);
        await server.StartAgainAsync();
        Assert.Equal("v0", Text(await pending.WaitAsync(Patience)));
    }

    [Fact]
    public async Task Compare_and_set_and_message_id_writes_under_load_survive_kill_9_and_restart_resent_and_stored_once()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = new NatsConnection(TestNats.Options(server.Url));
        await connection.ConnectAsync();
        var bucket = await new KvContext(connection).CreateBucketAsync(new KvBucketConfig { Bucket = "resend", LimitMarkerTtl = TimeSpan.FromSeconds(2) });
        await using var watch = new WatchCollector(bucket, ">", new KvWatchOptions { UpdatesOnly = true, IdleHeartbeat = TimeSpan.FromMilliseconds(500) });

        const int Writers = 32;
        using var stop = new CancellationTokenSource();
        var acked = new ConcurrentDictionary<string, (ulong Revision, string Value)>();
        var errors = new ConcurrentQueue<Exception>();
        long firstAckAfterRestart = 0; // Stopwatch ticks of `clock`, 0 until then
        var restarted = 0;
        var clock = Stopwatch.StartNew();
        long backAt = 0;

        // Half the writers own a key and update it by compare-and-set; the others write with a message id.
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var key = $"k{w}";
            ulong revision = 0;
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var value = $"{w}:{n}";
                try
                {
                    revision = w % 2 == 0
                        ? await bucket.UpdateAsync(key, Bytes(value), revision)
                        : await bucket.PutAsync(key, ReadOnlySequenceOf(value), new KvPutOptions { MsgId = $"{w}-{n}" });
                }
                catch (NatsException ex)
                {
                    errors.Enqueue(ex);
                    await Task.Delay(50);
                    revision = (await GetLeaderRetryingAsync(bucket, key))?.Revision ?? 0;
                    continue;
                }

                acked[key] = (revision, value);
                if (Volatile.Read(ref restarted) == 1)
                {
                    Interlocked.CompareExchange(ref firstAckAfterRestart, clock.ElapsedTicks, 0);
                }
            }
        })).ToArray();

        await Task.Delay(500);
        await server.KillAsync();
        await Task.Delay(300);
        await server.StartAgainAsync();
        backAt = clock.ElapsedTicks;
        Volatile.Write(ref restarted, 1);

        // A write made now reaches the watcher, which resumed on its own.
        await EventuallyAsync(() => Task.FromResult(Interlocked.Read(ref firstAckAfterRestart) != 0), "a write acknowledged after the restart");
        var firstAck = TimeSpan.FromTicks((long)((Interlocked.Read(ref firstAckAfterRestart) - backAt) * (double)TimeSpan.TicksPerSecond / Stopwatch.Frequency));
        var probe = await bucket.PutAsync("probe", Bytes("after"));
        while (true)
        {
            var e = await watch.NextAsync();
            if (e.Key == "probe")
            {
                Assert.Equal(probe, e.Revision);
                break;
            }
        }

        var watchBack = clock.Elapsed - TimeSpan.FromTicks((long)(backAt * (double)TimeSpan.TicksPerSecond / Stopwatch.Frequency));
        await Task.Delay(300);
        await stop.CancelAsync();
        await Task.WhenAll(writers).WaitAsync(Patience);

        output.WriteLine($"first acknowledged write {firstAck.TotalMilliseconds:F0} ms after the server was listening; probe seen by the watch {watchBack.TotalMilliseconds:F0} ms after; {acked.Count} keys; errors {errors.Count}: {string.Join("; ", errors.Take(5).Select(e => e.GetType().Name + ": " + e.Message))}");
        Assert.Empty(errors);
        Assert.True(firstAck < Loose, $"first acknowledged write {firstAck.TotalMilliseconds:F0} ms after the server was back");

        // Stored once: each key holds exactly its writer's last acknowledged write, at its acknowledged revision.
        foreach (var (key, (revision, value)) in acked)
        {
            var e = await bucket.GetLastAsync(key, KvReadMode.Leader);
            Assert.Equal((revision, value), (e!.Revision, Text(e)));
        }
    }

    [Fact]
    public async Task A_compare_and_set_whose_acknowledgement_was_lost_reports_the_revision_it_was_stored_at()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var proxy = new FaultProxy(server.Port);
        await using var connection = new NatsConnection(TestNats.Options(proxy.Url));
        await connection.ConnectAsync();
        var bucket = await new KvContext(connection).CreateBucketAsync(new KvBucketConfig { Bucket = "lostack" });
        var r1 = await bucket.PutAsync("k", Bytes("v1"));

        // A cut right after the publish: some updates are stored with their acknowledgement lost, some never sent. Each
        // must still return the revision it is stored at (resent, then found by its value), never a wrong-revision error.
        var revisions = new ulong[20];
        revisions[0] = r1;
        for (var i = 1; i < revisions.Length; i++)
        {
            var update = bucket.UpdateAsync("k", Bytes($"v{i + 1}"), revisions[i - 1]).AsTask();
            if (i % 2 == 0)
            {
                proxy.CutAll();
            }

            revisions[i] = await update.WaitAsync(Patience);
            Assert.True(revisions[i] > revisions[i - 1]);
        }

        var last = await bucket.GetLastAsync("k", KvReadMode.Leader);
        Assert.Equal((revisions[^1], $"v{revisions.Length}"), (last!.Revision, Text(last)));
    }

    [Fact]
    public async Task A_watch_resumes_as_soon_as_the_server_is_back_after_a_long_outage()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = new NatsConnection(TestNats.Options(server.Url));
        await connection.ConnectAsync();
        var bucket = await new KvContext(connection).CreateBucketAsync(new KvBucketConfig { Bucket = "resume" });
        // Latest values, not updates only: "before" arrives whether the watch's consumer exists before the put or after.
        await using var watch = new WatchCollector(bucket, ">");
        await bucket.PutAsync("before", Bytes("1"));
        Assert.Equal("before", (await watch.NextAsync()).Key);

        // Down long enough for any backoff inside the watch to have grown.
        await server.KillAsync();
        await Task.Delay(TimeSpan.FromSeconds(4));
        await server.StartAgainAsync();
        var back = Stopwatch.StartNew();
        var rev = await bucket.PutAsync("after", Bytes("2"));
        var e = await watch.NextAsync();
        output.WriteLine($"change made after the restart seen {back.ElapsedMilliseconds} ms after the server was back; resyncs {watch.Resyncs}");
        Assert.Equal(("after", rev), (e.Key, e.Revision));
        Assert.True(back.Elapsed < TimeSpan.FromSeconds(2), $"seen {back.ElapsedMilliseconds} ms after the server was back");
    }

    private static async Task<KvEntry?> GetLeaderRetryingAsync(KvBucket bucket, string key)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                return await bucket.GetLastAsync(key, KvReadMode.Leader);
            }
            catch (NatsException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    private static System.Buffers.ReadOnlySequence<byte> ReadOnlySequenceOf(string s) => new(Bytes(s));

    private readonly record struct Outcome(Exception? Error);

    /// <summary>The call's failure (null when it succeeded), so many calls can be awaited together.</summary>
    private static async ValueTask<Outcome> Timed<T>(Func<ValueTask<T>> call)
    {
        try
        {
            await call();
            return new Outcome(null);
        }
        catch (Exception ex)
        {
            return new Outcome(ex);
        }
    }
}

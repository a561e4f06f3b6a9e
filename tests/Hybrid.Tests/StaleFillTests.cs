using CacheProvider.KeyValue;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheProvider.Hybrid.Tests;

/// <summary>
/// The guarantee: once node B applied A's change of a key at revision R, a read of the key on B that starts afterwards
/// returns R or newer — even when an L2 read of the key was in flight on B when the change arrived.
/// </summary>
public sealed class StaleFillTests(ITestOutputHelper output)
{
    private static readonly HybridCacheEntryOptions ReadOnly = new() { Flags = HybridCacheEntryFlags.DisableUnderlyingData };

    private static ValueTask<string?> NoFactory(CancellationToken _) => ValueTask.FromResult<string?>(null);

    [Fact]
    public async Task An_L2_read_in_flight_when_another_node_s_change_is_applied_reads_again_and_returns_the_new_value()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await HybridNode.StartAsync(server, "stale-reread");
        await using var b = await HybridNode.StartAsync(server, "stale-reread");
        await a.Hybrid.SetAsync("k", "v1");
        await Eventually.TrueAsync(() => Task.FromResult(b.Invalidator.Applied == 1), "B applied A's Set of v1");

        // B's read of k gets v1 from L2 and is held there, as if the reply were still on the wire.
        var paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var guard = b.Invalidator.Guard;
        guard.AfterL2ReadForTests = async key =>
        {
            if (key == "k" && paused.TrySetResult())
            {
                await release.Task;
            }
        };
        var read = b.Hybrid.GetOrCreateAsync("k", NoFactory, ReadOnly).AsTask();
        await paused.Task.WaitAsync(TimeSpan.FromSeconds(15));

        await a.Hybrid.SetAsync("k", "v2");
        await Eventually.TrueAsync(() => Task.FromResult(b.Invalidator.Applied == 2), "B applied A's Set of v2");
        release.SetResult();

        Assert.Equal("v2", await read.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal(1, b.Invalidator.Rereads);
        guard.AfterL2ReadForTests = null;
        Assert.Equal("v2", await b.Hybrid.GetOrCreateAsync("k", NoFactory, ReadOnly));
    }

    [Fact]
    public async Task A_value_read_before_another_node_s_change_was_applied_is_not_kept_in_L1()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await HybridNode.StartAsync(server, "stale-refuse");
        await using var b = await HybridNode.StartAsync(server, "stale-refuse");
        await a.Hybrid.SetAsync("k", "v1");
        await Eventually.TrueAsync(() => Task.FromResult(b.Invalidator.Applied == 1), "B applied A's Set of v1");

        // B's fetch already has v1 from L2 and is about to put it into L1 when A's change of k is applied.
        using var atCommit = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var guard = b.Invalidator.Guard;
        guard.BeforeCommitForTests = key =>
        {
            if (key == "k" && !atCommit.IsSet)
            {
                atCommit.Set();
                release.Wait(TimeSpan.FromSeconds(30));
            }
        };
        var read = Task.Run(() => b.Hybrid.GetOrCreateAsync("k", NoFactory, ReadOnly).AsTask());
        Assert.True(atCommit.Wait(TimeSpan.FromSeconds(15)), "B's fetch reached its L1 insertion");

        await a.Hybrid.SetAsync("k", "v2");
        await Eventually.TrueAsync(() => Task.FromResult(b.Invalidator.Applied == 2), "B applied A's Set of v2");
        release.Set();

        Assert.Equal("v1", await read.WaitAsync(TimeSpan.FromSeconds(15))); // that read started before the change: v1 is allowed
        guard.BeforeCommitForTests = null;
        Assert.Equal(1, b.Invalidator.RefusedStaleFills);
        Assert.False(b.L1.TryGetValue("k", out _));
        Assert.Equal("v2", await b.Hybrid.GetOrCreateAsync("k", NoFactory, ReadOnly));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_fetch_that_filled_L1_leaves_nothing_for_a_later_change_to_wait_for(bool cancellable)
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await HybridNode.StartAsync(server, "stale-settled");
        await using var b = await HybridNode.StartAsync(server, "stale-settled");
        await a.Hybrid.SetAsync("k", "v1");
        using var cts = new CancellationTokenSource();
        Assert.Equal("v1", await b.Hybrid.GetOrCreateAsync("k", NoFactory, ReadOnly, cancellationToken: cancellable ? cts.Token : default));
        Assert.True(b.L1.TryGetValue("k", out _));
        await Eventually.TrueAsync(() => Task.FromResult(b.Invalidator.Guard.HandedOutCount == 0), "nothing left handed out");
    }

    [Fact]
    public async Task Reads_on_B_concurrent_with_Sets_on_A_never_return_a_value_older_than_the_newest_change_B_applied_before_they_started()
    {
        const int Keys = 4;
        const int SetsPerKey = 150;
        const int Readers = 8;
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await HybridNode.StartAsync(server, "stale-mix");
        await using var b = await HybridNode.StartAsync(server, "stale-mix");

        // A writes 1, 2, 3, … to each key, one Set at a time per key. B's watch sees each key's changes in order but may
        // skip a revision that the next one replaced before delivery (history 1), so B's n-th applied change of a key is
        // value n or newer: n is a floor no read that starts afterwards may go below.
        var applied = new long[Keys];
        var lastApplied = new long[Keys];
        b.Invalidator.AppliedChange += change =>
        {
            var k = int.Parse(change.Key!.AsSpan(2));
            Interlocked.Increment(ref applied[k]);
            Interlocked.Exchange(ref lastApplied[k], (long)change.Revision);
        };
        var readOptions = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableUnderlyingData };
        var writing = true;
        long reads = 0, stale = 0;
        var writers = Enumerable.Range(0, Keys).Select(k => Task.Run(async () =>
        {
            for (var n = 1; n <= SetsPerKey; n++)
            {
                await a.Hybrid.SetAsync($"k.{k}", n);
            }
        })).ToArray();
        var readers = Enumerable.Range(0, Readers).Select(r => Task.Run(async () =>
        {
            var i = r;
            while (Volatile.Read(ref writing))
            {
                // L1 hits complete synchronously: yield so eight readers cannot starve the writers and the watch on 2 cores.
                await Task.Yield();
                var k = i++ % Keys;
                var floor = Interlocked.Read(ref applied[k]);
                var value = await b.Hybrid.GetOrCreateAsync($"k.{k}", _ => ValueTask.FromResult(0), readOptions);
                Interlocked.Increment(ref reads);
                if (value != 0 && value < floor) // 0: a miss (no value; HybridCache would ask its factory)
                {
                    Interlocked.Increment(ref stale);
                    output.WriteLine($"stale: k.{k} returned {value} after B applied {floor}");
                }
            }
        })).ToArray();
        await Task.WhenAll(writers);
        await using var connection = await server.ConnectAsync();
        var bucket = await new KvContext(connection).GetBucketAsync("stale-mix");
        var finalRevisions = new long[Keys];
        for (var k = 0; k < Keys; k++)
        {
            finalRevisions[k] = (long)(await bucket.GetAsync($"k.{k}"))!.Revision;
        }

        await Eventually.TrueAsync(
            () => Task.FromResult(Enumerable.Range(0, Keys).All(k => Interlocked.Read(ref lastApplied[k]) == finalRevisions[k])),
            () => $"B applied every key's last Set (applied per key: {string.Join(", ", applied)}; last revisions {string.Join(", ", lastApplied)} of {string.Join(", ", finalRevisions)}; flushes {b.Invalidator.Flushes})");
        Volatile.Write(ref writing, false);
        await Task.WhenAll(readers);

        output.WriteLine($"{reads} reads on B, {b.Invalidator.Rereads} L2 reads repeated, {b.Invalidator.RefusedStaleFills} L1 fills refused");
        Assert.True(reads >= Keys * 10, $"only {reads} reads ran");
        Assert.Equal(0, stale);
        for (var k = 0; k < Keys; k++)
        {
            Assert.Equal(SetsPerKey, await b.Hybrid.GetOrCreateAsync($"k.{k}", _ => ValueTask.FromResult(0), readOptions));
        }
    }
}

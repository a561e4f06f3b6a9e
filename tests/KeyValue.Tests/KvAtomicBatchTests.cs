using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;
using static CacheProvider.KeyValue.Tests.KvTest;

namespace CacheProvider.KeyValue.Tests;

/// <summary>Atomic multi-key batches (ADR-50) and consistent multi-key reads (multi_last) against a real server.</summary>
public sealed class KvAtomicBatchTests(ITestOutputHelper output)
{
    private static ValueTask<KvBucket> AtomicBucketAsync(KvHarness h, string name = "atomic") =>
        h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = name, LimitMarkerTtl = TimeSpan.FromSeconds(5), AllowAtomicPublish = true });

    [Fact]
    public async Task A_committed_batch_stores_every_message_at_consecutive_revisions()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await AtomicBucketAsync(h);
        Assert.True((await bucket.GetStatusAsync()).AllowAtomicPublish);
        var before = await bucket.PutAsync("other", Bytes("x"));

        var result = await bucket.CommitAsync(new KvAtomicBatch()
            .Put("a", Bytes("1"), expectedRevision: 0)
            .Put("b", Bytes("2"))
            .Put("c", Bytes("3"), expectedRevision: 0, ttl: TimeSpan.FromMinutes(5)));

        Assert.True(result.Committed);
        Assert.Equal(before + 3, result.Sequence);
        Assert.Equal(result.RevisionOf(0), (await bucket.GetAsync("a"))!.Revision);
        Assert.Equal(result.RevisionOf(1), (await bucket.GetAsync("b"))!.Revision);
        var c = await bucket.GetAsync("c");
        Assert.Equal(result.Sequence, c!.Revision);
        Assert.Equal(TimeSpan.FromMinutes(5), c.Ttl);
    }

    [Fact]
    public async Task A_failed_compare_and_set_on_any_message_stores_nothing()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await AtomicBucketAsync(h);
        var v = await bucket.PutAsync("version", Bytes("1"));
        var taken = await bucket.PutAsync("taken", Bytes("x"));

        var result = await bucket.CommitAsync(new KvAtomicBatch()
            .Put("version", Bytes("2"), expectedRevision: v)
            .Put("new", Bytes("n"), expectedRevision: 0)
            .Put("taken", Bytes("y"), expectedRevision: 0));

        Assert.False(result.Committed);
        Assert.Equal(JetStreamErrorCodes.WrongLastSequence, result.ErrorCode);
        Assert.Equal(v, (await bucket.GetAsync("version"))!.Revision);
        Assert.Null(await bucket.GetLastAsync("new"));
        Assert.Equal(taken, (await bucket.GetStatusAsync()).StreamInfo.State.LastSeq);
    }

    [Fact]
    public async Task A_bucket_without_atomic_publish_refuses_until_it_is_switched_on()
    {
        await using var h = await KvHarness.StartAsync(output);
        var config = new KvBucketConfig { Bucket = "plain", LimitMarkerTtl = TimeSpan.FromSeconds(5) };
        var bucket = await h.Kv.CreateBucketAsync(config);
        var batch = new KvAtomicBatch().Put("a", Bytes("1")).Put("b", Bytes("2"));
        var refused = await Assert.ThrowsAsync<NatsJSApiException>(async () => await bucket.CommitAsync(batch));
        Assert.Equal(JetStreamErrorCodes.AtomicPublishDisabled, refused.Error.ErrCode);
        Assert.Null(await bucket.GetLastAsync("a"));

        bucket = await h.Kv.UpdateBucketAsync(config with { AllowAtomicPublish = true });
        Assert.True((await bucket.CommitAsync(batch)).Committed);
    }

    [Fact]
    public async Task A_purge_in_a_batch_leaves_a_tombstone_that_only_includeRemoved_reads_show()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await AtomicBucketAsync(h);
        var row = await bucket.PutAsync("r.1", Bytes("row"));
        var result = await bucket.CommitAsync(new KvAtomicBatch()
            .Put("v", Bytes("2"), expectedRevision: 0)
            .Purge("r.1", expectedRevision: row, tombstoneTtl: TimeSpan.FromMinutes(1)));
        Assert.True(result.Committed);

        var values = await bucket.GetLatestAsync([">"]);
        Assert.Equal(["v"], values.Entries.Select(e => e.Key));
        Assert.True(values.UpToSequence >= result.Sequence);
        var all = await bucket.GetLatestAsync([">"], includeRemoved: true);
        var tombstone = Assert.Single(all.Entries, e => e.Key == "r.1");
        Assert.Equal(KvOperation.Purge, tombstone.Operation);
        Assert.Equal(result.Sequence, tombstone.Revision);
    }

    [Fact]
    public async Task A_consistent_read_of_more_than_1024_keys_fails_with_a_clear_error()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await AtomicBucketAsync(h);
        await Parallel.ForEachAsync(Enumerable.Range(0, 1030), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
            await bucket.PutAsync("k." + i, Bytes("v"), cancellationToken: ct));

        var error = await Assert.ThrowsAsync<KvTooManyResultsException>(async () => await bucket.GetLatestAsync(["k.>"]));
        Assert.Equal(1024, error.Limit);
        Assert.Single((await bucket.GetLatestAsync(["k.7"])).Entries);
    }

    [Fact]
    public async Task A_consistent_read_reports_how_far_the_server_had_applied_and_a_read_of_nothing_is_believed_after_a_few_tries()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await AtomicBucketAsync(h);
        var seq = await bucket.PutAsync("x", Bytes("1"));
        var some = await bucket.GetLatestAsync(["x"], minSequence: seq);
        Assert.True(some.UpToSequence >= seq, $"UpTo {some.UpToSequence} < {seq}");

        // "404 No Results" carries no Nats-UpTo-Sequence: re-read briefly, then believed rather than waited out.
        var started = DateTime.UtcNow;
        var none = await bucket.GetLatestAsync(["nothing.>"], minSequence: seq);
        Assert.Empty(none.Entries);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_batch_whose_server_was_killed_after_message_one_is_never_visible()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await AtomicBucketAsync(h);
        var headers = new NatsHeaders { ["Nats-Batch-Id"] = "killed", ["Nats-Batch-Sequence"] = "1", ["Nats-Expected-Last-Subject-Sequence"] = "0" };
        var staged = await h.Connection.RequestAsync<byte[], byte[]>("$KV.atomic.first", Encoding.UTF8.GetBytes("1"), headers);
        Assert.Empty(staged.Data ?? []);

        await h.Server.KillAsync();
        await h.Server.StartAgainAsync();
        await h.Connection.ConnectAsync();
        await EventuallyAsync(async () => (await h.Kv.GetStatusAsync("atomic")).Bucket == "atomic", "the stream is back");

        var commit = new NatsHeaders { ["Nats-Batch-Id"] = "killed", ["Nats-Batch-Sequence"] = "2", ["Nats-Batch-Commit"] = "1" };
        var reply = await h.Connection.RequestAsync<byte[], byte[]>("$KV.atomic.second", Encoding.UTF8.GetBytes("2"), commit);
        Assert.Contains("10176", Encoding.UTF8.GetString(reply.Data ?? []), StringComparison.Ordinal);
        Assert.Null(await bucket.GetLastAsync("first"));
        Assert.Null(await bucket.GetLastAsync("second"));
    }
}

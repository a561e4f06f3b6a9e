using System.Buffers;
using CacheProvider.KeyValue;
using static CacheProvider.KeyValue.Tests.KvTest;

namespace CacheProvider.KeyValue.Tests;

/// <summary>What a read returns: entry fields, and "absent" for tombstones, markers and values past their TTL.</summary>
public sealed class KvGetTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Entry_carries_key_value_revision_created_operation_and_ttl()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);
        await bucket.PutAsync("other", Bytes("x"));
        var rev = await bucket.PutAsync("user.1", Bytes("alice"), TimeSpan.FromSeconds(30));

        foreach (var mode in new[] { KvReadMode.Direct, KvReadMode.Leader })
        {
            var e = await bucket.GetAsync("user.1", mode);
            Assert.NotNull(e);
            Assert.Equal("test", e.Bucket);
            Assert.Equal("user.1", e.Key);
            Assert.Equal("alice", Text(e));
            Assert.Equal(5, e.ValueLength);
            Assert.Equal(rev, e.Revision);
            Assert.Equal(2UL, e.Revision);
            Assert.InRange(e.Created, before, DateTimeOffset.UtcNow.AddSeconds(5));
            Assert.Equal(KvOperation.Put, e.Operation);
            Assert.Equal(KvMarkerReason.None, e.MarkerReason);
            Assert.True(e.IsValue);
            Assert.Equal(TimeSpan.FromSeconds(30), e.Ttl);
            Assert.Equal(e.Created + TimeSpan.FromSeconds(30), e.ExpiresAt);
        }

        var plain = await bucket.GetAsync("other");
        Assert.Null(plain!.Ttl);
        Assert.Null(plain.ExpiresAt);
    }

    [Fact]
    public async Task Missing_key_reads_as_null_in_both_modes()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        Assert.Null(await bucket.GetAsync("nope"));
        Assert.Null(await bucket.GetAsync("nope", KvReadMode.Leader));
        Assert.Null(await bucket.GetLastAsync("nope"));
    }

    [Fact]
    public async Task Delete_and_purge_tombstones_read_as_absent_but_get_last_shows_them()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        await bucket.PutAsync("d", Bytes("1"));
        var del = await bucket.DeleteAsync("d");
        await bucket.PutAsync("p", Bytes("1"));
        var purge = await bucket.PurgeAsync("p");

        foreach (var mode in new[] { KvReadMode.Direct, KvReadMode.Leader })
        {
            Assert.Null(await bucket.GetAsync("d", mode));
            Assert.Null(await bucket.GetAsync("p", mode));
            var d = await bucket.GetLastAsync("d", mode);
            Assert.Equal(KvOperation.Delete, d!.Operation);
            Assert.Equal(del, d.Revision);
            Assert.False(d.IsValue);
            var p = await bucket.GetLastAsync("p", mode);
            Assert.Equal(KvOperation.Purge, p!.Operation);
            Assert.Equal(purge, p.Revision);
        }
    }

    [Fact]
    public async Task Expiry_marker_reads_as_absent_and_get_last_reports_reason_expired()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync(markerTtl: TimeSpan.FromSeconds(3));
        var rev = await bucket.PutAsync("t", Bytes("soon gone"), TimeSpan.FromSeconds(1));
        await EventuallyAsync(async () => (await bucket.GetLastAsync("t"))?.Revision > rev, "marker written");
        Assert.Null(await bucket.GetAsync("t"));
        Assert.Null(await bucket.GetAsync("t", KvReadMode.Leader));
        var marker = await bucket.GetLastAsync("t", KvReadMode.Leader);
        Assert.NotNull(marker);
        Assert.Equal(KvMarkerReason.Expired, marker.MarkerReason);
        Assert.Equal(KvOperation.Purge, marker.Operation);
        Assert.Equal(TimeSpan.FromSeconds(3), marker.Ttl);
        Assert.Equal(0, marker.ValueLength);
    }

    [Fact]
    public async Task Value_past_its_ttl_reads_as_absent_before_the_server_sweeps_it()
    {
        await using var h = await KvHarness.StartAsync(output);
        await h.TtlBucketAsync();
        var (bucket, clock) = await BucketWithClockAsync(h, "test");
        await bucket.PutAsync("k", Bytes("v"), TimeSpan.FromSeconds(60));
        Assert.NotNull(await bucket.GetAsync("k"));

        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Null(await bucket.GetAsync("k"));
        Assert.Null(await bucket.GetAsync("k", KvReadMode.Leader));
        var sink = new ArrayBufferWriter<byte>();
        Assert.Null(await bucket.GetAsync("k", sink));
        Assert.Equal(0, sink.WrittenCount);
        Assert.Empty(await bucket.KeysAsync().ToListAsync());

        // The raw last revision is still there (the server has not swept it), and create may replace it.
        Assert.True((await bucket.GetLastAsync("k"))!.IsValue);
        await bucket.CreateAsync("k", Bytes("fresh"));
        clock.Advance(-TimeSpan.FromSeconds(61));
        Assert.Equal("fresh", Text(await bucket.GetAsync("k")));
    }

    [Fact]
    public async Task Get_into_buffer_writer_copies_the_value_and_writes_nothing_on_a_miss()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        var value = new byte[10_000];
        Random.Shared.NextBytes(value);
        var rev = await bucket.PutAsync("blob", value);
        await bucket.PutAsync("gone", Bytes("x"));
        await bucket.DeleteAsync("gone");

        var sink = new ArrayBufferWriter<byte>();
        var e = await bucket.GetAsync("blob", sink);
        Assert.NotNull(e);
        Assert.Equal(rev, e.Revision);
        Assert.Equal(value.Length, e.ValueLength);
        Assert.True(e.Value.IsEmpty);
        Assert.Equal(value, sink.WrittenSpan.ToArray());

        var miss = new ArrayBufferWriter<byte>();
        Assert.Null(await bucket.GetAsync("missing", miss));
        Assert.Null(await bucket.GetAsync("gone", miss));
        Assert.Equal(0, miss.WrittenCount);
    }

    [Fact]
    public async Task Leader_read_sees_a_write_immediately()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        for (var i = 0; i < 20; i++)
        {
            var rev = await bucket.PutAsync("k", Bytes($"v{i}"));
            var e = await bucket.GetAsync("k", KvReadMode.Leader);
            Assert.Equal(rev, e!.Revision);
            Assert.Equal($"v{i}", Text(e));
        }
    }
}

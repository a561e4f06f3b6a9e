using System.Text;
using CacheProvider.KeyValue;

namespace CacheProvider.KeyValue.Tests;

public sealed class KvBasicsTests(ITestOutputHelper output)
{
    private static ReadOnlyMemory<byte> Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Put_then_get_returns_value_with_revision_ttl_and_expiry()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        var rev = await bucket.PutAsync("a.b", Bytes("v1"), TimeSpan.FromSeconds(1.2));
        var entry = await bucket.GetAsync("a.b");
        Assert.NotNull(entry);
        Assert.Equal("v1", Encoding.UTF8.GetString(entry.Value.Span));
        Assert.Equal(rev, entry.Revision);
        Assert.Equal(TimeSpan.FromSeconds(2), entry.Ttl); // rounded up, never truncated
        Assert.Equal(entry.Created + TimeSpan.FromSeconds(2), entry.ExpiresAt);
        Assert.Equal(KvOperation.Put, entry.Operation);
        Assert.Equal(KvMarkerReason.None, entry.MarkerReason);
    }

    [Fact]
    public async Task Expired_key_reads_as_absent_and_watcher_sees_marker_with_reason()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<KvEntry>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in bucket.WatchAsync(">", new KvWatchOptions { UpdatesOnly = true }, cts.Token))
            {
                seen.Add(e);
                if (e.MarkerReason != KvMarkerReason.None)
                {
                    return e;
                }
            }

            return null;
        });
        await Task.Delay(200);
        await bucket.PutAsync("session.temp", Bytes("x"), TimeSpan.FromSeconds(1));
        var marker = await watching;
        Assert.NotNull(marker);
        Assert.Equal("session.temp", marker.Key);
        Assert.Equal(KvMarkerReason.Expired, marker.MarkerReason);
        Assert.Equal(KvOperation.Purge, marker.Operation);
        Assert.Null(await bucket.GetAsync("session.temp"));
        Assert.Empty(await bucket.KeysAsync().ToListAsync());
    }

    [Fact]
    public async Task Create_fails_on_value_but_succeeds_over_tombstone_and_marker()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        await bucket.CreateAsync("k", Bytes("1"));
        await Assert.ThrowsAsync<KvKeyExistsException>(async () => await bucket.CreateAsync("k", Bytes("2")));
        await bucket.DeleteAsync("k");
        await bucket.CreateAsync("k", Bytes("3"));
        await bucket.PurgeAsync("k", TimeSpan.FromSeconds(1));
        var rev = await bucket.CreateAsync("k", Bytes("4"), TimeSpan.FromSeconds(1));
        await Task.Delay(1600); // wait for the TTL marker
        var last = await bucket.GetLastAsync("k");
        Assert.NotNull(last);
        Assert.Equal(KvMarkerReason.Expired, last.MarkerReason);
        Assert.True(last.Revision > rev);
        await bucket.CreateAsync("k", Bytes("5"));
        Assert.Equal("5", Encoding.UTF8.GetString((await bucket.GetAsync("k"))!.Value.Span));
    }

    [Fact]
    public async Task Update_with_stale_revision_throws_typed_exception()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        var r1 = await bucket.PutAsync("k", Bytes("1"));
        var r2 = await bucket.UpdateAsync("k", Bytes("2"), r1, TimeSpan.FromSeconds(30));
        var ex = await Assert.ThrowsAsync<KvWrongRevisionException>(async () => await bucket.UpdateAsync("k", Bytes("3"), r1));
        Assert.Equal(r1, ex.ExpectedRevision);
        Assert.True(r2 > r1);
    }
}

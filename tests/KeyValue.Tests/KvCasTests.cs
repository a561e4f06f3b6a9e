using CacheProvider.KeyValue;
using static CacheProvider.KeyValue.Tests.KvTest;

namespace CacheProvider.KeyValue.Tests;

/// <summary>Create (only if absent) and compare-and-set update/delete.</summary>
public sealed class KvCasTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Create_succeeds_once_and_then_reports_the_existing_revision()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        var rev = await bucket.CreateAsync("lock", Bytes("owner-a"), TimeSpan.FromSeconds(30));
        var ex = await Assert.ThrowsAsync<KvKeyExistsException>(async () => await bucket.CreateAsync("lock", Bytes("owner-b")));
        Assert.Equal(rev, ex.Revision);
        Assert.Equal("lock", ex.Key);
        Assert.Equal("owner-a", Text(await bucket.GetAsync("lock")));
    }

    [Fact]
    public async Task Create_succeeds_over_a_delete_tombstone_and_a_purge_tombstone()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        await bucket.PutAsync("d", Bytes("1"));
        var tomb = await bucket.DeleteAsync("d");
        var rev = await bucket.CreateAsync("d", Bytes("2"));
        Assert.True(rev > tomb);
        Assert.Equal("2", Text(await bucket.GetAsync("d")));

        await bucket.PurgeAsync("d");
        await bucket.CreateAsync("d", Bytes("3"));
        Assert.Equal("3", Text(await bucket.GetAsync("d")));
    }

    [Fact]
    public async Task Create_succeeds_over_an_expiry_marker()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync(markerTtl: TimeSpan.FromSeconds(5));
        var rev = await bucket.CreateAsync("k", Bytes("1"), TimeSpan.FromSeconds(1));
        await EventuallyAsync(async () => (await bucket.GetLastAsync("k", KvReadMode.Leader))?.MarkerReason == KvMarkerReason.Expired, "marker");
        var again = await bucket.CreateAsync("k", Bytes("2"), TimeSpan.FromSeconds(10));
        Assert.True(again > rev + 1);
        var e = await bucket.GetAsync("k");
        Assert.Equal("2", Text(e));
        Assert.Equal(TimeSpan.FromSeconds(10), e!.Ttl);
    }

    [Fact]
    public async Task Concurrent_creates_of_one_key_let_exactly_one_win()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        await bucket.PutAsync("k", Bytes("x"));
        await bucket.DeleteAsync("k");
        var attempts = Enumerable.Range(0, 16).Select(async i =>
        {
            try
            {
                await bucket.CreateAsync("k", Bytes($"c{i}"));
                return true;
            }
            catch (KvKeyExistsException)
            {
                return false;
            }
        });
        var results = await Task.WhenAll(attempts);
        Assert.Single(results, r => r);
    }

    [Fact]
    public async Task Update_succeeds_at_the_current_revision_and_fails_with_a_stale_one()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        var r1 = await bucket.PutAsync("k", Bytes("1"));
        var r2 = await bucket.UpdateAsync("k", Bytes("2"), r1);
        var r3 = await bucket.UpdateAsync("k", Bytes("3"), r2, TimeSpan.FromSeconds(20));
        Assert.Equal(TimeSpan.FromSeconds(20), (await bucket.GetAsync("k"))!.Ttl);

        var ex = await Assert.ThrowsAsync<KvWrongRevisionException>(async () => await bucket.UpdateAsync("k", Bytes("stale"), r2));
        Assert.Equal(r2, ex.ExpectedRevision);
        Assert.Equal("k", ex.Key);
        Assert.True(((NatsJSApiException)ex.InnerException!).Error.ErrCode is JetStreamErrorCodes.WrongLastSequence or JetStreamErrorCodes.WrongLastSubjectSequence);
        Assert.Equal(r3, (await bucket.GetAsync("k"))!.Revision);

        // Update of a key that never existed expects revision 0 to fail for any other revision.
        await Assert.ThrowsAsync<KvWrongRevisionException>(async () => await bucket.UpdateAsync("fresh", Bytes("x"), 7));
    }

    [Fact]
    public async Task Delete_and_purge_with_expected_revision_fail_when_the_key_moved_on()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        var r1 = await bucket.PutAsync("k", Bytes("1"));
        var r2 = await bucket.PutAsync("k", Bytes("2"));
        await Assert.ThrowsAsync<KvWrongRevisionException>(async () => await bucket.DeleteAsync("k", expectedRevision: r1));
        await Assert.ThrowsAsync<KvWrongRevisionException>(async () => await bucket.PurgeAsync("k", expectedRevision: r1));
        Assert.Equal("2", Text(await bucket.GetAsync("k")));

        await bucket.DeleteAsync("k", expectedRevision: r2);
        Assert.Null(await bucket.GetAsync("k"));
    }
}

using CacheProvider.Clustering.Tests.Support;
using CacheProvider.Grains;
using CacheProvider.KeyValue;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Clustering.Tests.Clustering;

/// <summary>Races and limits the membership table must survive without a wrong answer.</summary>
public sealed class MembershipTableFailureTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private readonly NatsMembershipTable _table = Rows.NewTable(fixture.Connection);

    public Task InitializeAsync() => _table.InitializeMembershipTableAsync(true);

    public Task DisposeAsync() => _table.DeleteMembershipTableEntriesAsync(_table.ClusterId);

    [Fact]
    public async Task Updates_of_different_rows_at_one_version_have_one_winner()
    {
        for (var i = 0; i < 6; i++)
        {
            await Rows.InsertAsync(_table, Rows.New());
        }

        var data = await _table.ReadAllAsync();
        var results = await Task.WhenAll(data.Members.Select(m => Task.Run(() =>
        {
            m.Item1.Status = SiloStatus.Active;
            return _table.UpdateRowAsync(m.Item1, m.Item2, data.Version.Next());
        })));
        Assert.Single(results, won => won);
        var after = await _table.ReadAllAsync();
        Assert.Equal(data.Version.Version + 1, after.Version.Version);
        Assert.Single(after.Members, m => m.Item1.Status == SiloStatus.Active);
    }

    [Fact]
    public async Task ReadAll_never_sees_a_row_without_its_version()
    {
        // Every update writes the new version number into the row it changes: in a consistent view the newest row
        // carries exactly the table's version.
        var rows = new List<MembershipEntry>();
        for (var i = 0; i < 3; i++)
        {
            var row = Rows.New();
            rows.Add(row);
            await Rows.InsertAsync(_table, row);
        }

        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var writes = 0;
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var data = await _table.ReadAllAsync();
                var (row, etag) = data.Members[i % data.Members.Count];
                var next = data.Version.Next();
                row.HostName = next.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (await _table.UpdateRowAsync(row, etag, next))
                {
                    writes++;
                }
            }

            return writes;
        });

        var reads = 0;
        var deadline = DateTime.UtcNow.AddSeconds(4);
        while (DateTime.UtcNow < deadline || reads < 50)
        {
            var data = await _table.ReadAllAsync();
            var newest = data.Members.Max(m => int.TryParse(m.Item1.HostName, out var v) ? v : 3);
            Assert.Equal(data.Version.Version, newest);
            reads++;
        }

        await stop.CancelAsync();
        Assert.True(await writer > 10, "the writer made progress");
    }

    [Fact]
    public async Task Cleanup_keeps_a_dead_row_exactly_at_the_cutoff_and_concurrent_cleaners_bump_the_version_at_most_once()
    {
        var old = Rows.Truncate(DateTime.UtcNow.AddDays(-2));
        var atCutoff = Rows.New(SiloStatus.Dead, old);
        var before1 = Rows.New(SiloStatus.Dead, old.AddSeconds(-1));
        var voted = Rows.New(SiloStatus.Dead, old.AddSeconds(-1));
        voted.SuspectTimes = [Tuple.Create(atCutoff.SiloAddress, old)];
        foreach (var row in new[] { atCutoff, before1, voted })
        {
            await Rows.InsertAsync(_table, row);
        }

        var before = await _table.ReadAllAsync();
        await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => _table.CleanupDefunctSiloEntriesAsync(old))));
        var after = await _table.ReadAllAsync();
        Assert.Equal(before.Version.Version + 1, after.Version.Version);
        Assert.Equal(
            new[] { atCutoff.SiloAddress, voted.SiloAddress }.OrderBy(s => s.Generation),
            after.Members.Select(m => m.Item1.SiloAddress).OrderBy(s => s.Generation));

        await _table.CleanupDefunctSiloEntriesAsync(old);
        Assert.Equal(after.Version, (await _table.ReadAllAsync()).Version);
    }

    [Fact]
    public async Task A_cleaned_up_silo_address_can_be_inserted_again_over_its_tombstone()
    {
        var old = Rows.Truncate(DateTime.UtcNow.AddDays(-2));
        var row = Rows.New(SiloStatus.Dead, old);
        await Rows.InsertAsync(_table, row);
        await _table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow);
        Assert.Empty((await _table.ReadAllAsync()).Members);

        row.Status = SiloStatus.Joining;
        await Rows.InsertAsync(_table, row);
        Assert.Single((await _table.ReadAllAsync()).Members);
    }

    [Fact]
    public async Task More_membership_keys_than_one_consistent_read_returns_fail_with_a_clear_error()
    {
        var table = Rows.NewTable(fixture.Connection, bucket: "many-rows", clusterId: "crowded");
        await table.InitializeMembershipTableAsync(true);
        var bucket = await new KvContext(fixture.Connection).GetBucketAsync("many-rows");
        await Parallel.ForEachAsync(Enumerable.Range(0, 1030), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
            await bucket.PutAsync($"m.svc.crowded.r.filler{i}", "{}"u8.ToArray(), cancellationToken: ct));

        var error = await Assert.ThrowsAsync<NatsClusteringException>(() => table.ReadAllAsync());
        Assert.Contains("1024", error.Message, StringComparison.Ordinal);
        Assert.Contains("crowded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_refuses_another_cluster_and_removes_only_its_own()
    {
        var other = Rows.NewTable(fixture.Connection);
        await other.InitializeMembershipTableAsync(true);
        await Rows.InsertAsync(other, Rows.New());
        await Rows.InsertAsync(_table, Rows.New());

        await Assert.ThrowsAsync<ArgumentException>(() => _table.DeleteMembershipTableEntriesAsync(other.ClusterId));
        await other.DeleteMembershipTableEntriesAsync(other.ClusterId);
        var gone = await other.ReadAllAsync();
        Assert.Empty(gone.Members);
        Assert.Equal(0, gone.Version.Version);
        Assert.Single((await _table.ReadAllAsync()).Members);
    }
}

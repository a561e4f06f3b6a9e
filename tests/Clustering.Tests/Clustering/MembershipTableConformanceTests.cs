using CacheProvider.Clustering.Tests.Support;
using CacheProvider.Grains;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Clustering.Tests.Clustering;

/// <summary>
/// The membership table contract as Orleans' own table tests state it (MembershipTableTestsBase, its newer rules as
/// Orleans' Redis clustering 10.4.2 meets them), re-written here against a real nats-server. Each test uses its own cluster id.
/// </summary>
public sealed class MembershipTableConformanceTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private readonly NatsMembershipTable _table = Rows.NewTable(fixture.Connection);

    public Task InitializeAsync() => _table.InitializeMembershipTableAsync(true);

    public Task DisposeAsync() => _table.DeleteMembershipTableEntriesAsync(_table.ClusterId);

    [Fact]
    public async Task Gateways_are_the_active_silos_with_a_proxy_port()
    {
        var rows = new List<MembershipEntry>();
        for (var i = 0; i < 10; i++)
        {
            var row = Rows.New();
            row.ProxyPort = 30_000 + i;
            rows.Add(row);
            await Rows.InsertAsync(_table, row);
        }

        foreach (var i in new[] { 5, 9, 3 })
        {
            var data = await _table.ReadRowAsync(rows[i].SiloAddress);
            var (row, etag) = data.Members.Single();
            row.Status = SiloStatus.Active;
            if (i == 3)
            {
                row.ProxyPort = 0;
            }

            Assert.True(await _table.UpdateRowAsync(row, etag, data.Version.Next()));
        }

        var gateways = await new NatsGatewayListProvider(_table, TimeSpan.FromMinutes(1)).GetGatewaysAsync();
        var expected = new[] { rows[5], rows[9] }
            .Select(r => SiloAddress.New(r.SiloAddress.Endpoint.Address, r.ProxyPort, r.SiloAddress.Generation).ToGatewayUri())
            .OrderBy(u => u.ToString())
            .ToList();
        Assert.Equal(expected, gateways.OrderBy(u => u.ToString()).ToList());
    }

    [Fact]
    public async Task An_initialized_empty_table_has_version_zero_and_an_etag()
    {
        var data = await _table.ReadAllAsync();
        Assert.Empty(data.Members);
        Assert.Equal(0, data.Version.Version);
        Assert.NotNull(data.Version.VersionEtag);
    }

    [Fact]
    public async Task Insert_moves_the_version_to_one_and_adds_the_row()
    {
        await Rows.InsertAsync(_table, Rows.New());
        var data = await _table.ReadAllAsync();
        Assert.Equal(1, data.Version.Version);
        Assert.Single(data.Members);
    }

    [Fact]
    public async Task Insert_fails_for_an_existing_row_or_a_stale_version_and_ReadRow_sees_the_first_insert() =>
        await InsertThenRejectDuplicates(read: row => _table.ReadRowAsync(row.SiloAddress));

    [Fact]
    public async Task Insert_fails_for_an_existing_row_or_a_stale_version_and_ReadAll_sees_the_first_insert() =>
        await InsertThenRejectDuplicates(read: _ => _table.ReadAllAsync());

    private async Task InsertThenRejectDuplicates(Func<MembershipEntry, Task<MembershipTableData>> read)
    {
        var before = (await _table.ReadAllAsync()).Version;
        var row = Rows.New();
        Assert.True(await _table.InsertRowAsync(row, before.Next()));

        // The same row with the same (now stale) version, another row with it, the same row with a fresh version.
        Assert.False(await _table.InsertRowAsync(row, before.Next()));
        Assert.False(await _table.InsertRowAsync(Rows.New(), before.Next()));
        var fresh = (await _table.ReadAllAsync()).Version;
        Assert.False(await _table.InsertRowAsync(row, fresh.Next()));

        var data = await read(row);
        Assert.Equal(1, data.Version.Version);
        Assert.NotEqual(before.Next().VersionEtag, data.Version.VersionEtag);
        var (stored, etag) = Assert.Single(data.Members);
        Assert.NotNull(etag);
        Rows.AssertSame(row, stored);
    }

    [Fact]
    public async Task Update_needs_the_current_row_etag_and_version_and_changes_nothing_otherwise()
    {
        for (var i = 1; i <= 9; i++)
        {
            var row = Rows.New();
            row.SuspectTimes = [Tuple.Create(Rows.New().SiloAddress, Rows.Truncate(DateTime.UtcNow)), Tuple.Create(Rows.New().SiloAddress, Rows.Truncate(DateTime.UtcNow.AddSeconds(-7)))];
            var oldVersion = (await _table.ReadAllAsync()).Version;
            Assert.True(await _table.InsertRowAsync(row, oldVersion.Next()));
            var data = await _table.ReadRowAsync(row.SiloAddress);
            var (_, etag) = data.Members.Single();

            row.Status = SiloStatus.Active;
            Assert.False(await _table.UpdateRowAsync(row, etag, oldVersion.Next())); // fresh row etag, stale version
            Assert.True(await _table.UpdateRowAsync(row, etag, data.Version.Next()));

            var after = await _table.ReadRowAsync(row.SiloAddress);
            var (stored, newEtag) = after.Members.Single();
            Assert.NotEqual(etag, newEtag);
            Rows.AssertSame(row, stored);
            Assert.False(await _table.UpdateRowAsync(row, etag, after.Version.Next())); // stale row etag, fresh version

            // A stale version changes nothing, the version included.
            row.Status = SiloStatus.ShuttingDown;
            Assert.False(await _table.UpdateRowAsync(row, newEtag, data.Version.Next()));
            var unchanged = await _table.ReadAllAsync();
            Assert.Equal(after.Version, unchanged.Version);
            Assert.Equal(i, unchanged.Members.Count);
            Assert.Equal(SiloStatus.Active, unchanged.Members.Single(m => m.Item1.SiloAddress.Equals(row.SiloAddress)).Item1.Status);
        }

        // A row that does not exist cannot be updated.
        var all = await _table.ReadAllAsync();
        var missing = Rows.New();
        Assert.False(await _table.UpdateRowAsync(missing, all.Members[0].Item2, all.Version.Next()));
        Assert.Equal(all.Version, (await _table.ReadAllAsync()).Version);
    }

    [Fact]
    public async Task Of_twenty_parallel_inserts_one_wins_then_nineteen_retrying_updates_all_land()
    {
        var row = Rows.New();
        var version = (await _table.ReadAllAsync()).Version.Next();
        var inserts = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => _table.InsertRowAsync(row, version))));
        Assert.Single(inserts, won => won);

        await Task.WhenAll(Enumerable.Range(0, 19).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var data = await _table.ReadRowAsync(row.SiloAddress);
                var (current, etag) = data.Members.Single();
                if (await _table.UpdateRowAsync(current, etag, data.Version.Next()))
                {
                    return;
                }
            }
        })));

        Assert.Equal(20, (await _table.ReadAllAsync()).Version.Version);
    }

    [Fact]
    public async Task IAmAlive_changes_only_the_heartbeat_and_an_update_with_the_earlier_etag_still_succeeds()
    {
        var row = Rows.New();
        await Rows.InsertAsync(_table, row);
        var before = await _table.ReadRowAsync(row.SiloAddress);
        var (_, etagBefore) = before.Members.Single();

        var beat = Rows.Truncate(DateTime.UtcNow.AddSeconds(5));
        await _table.UpdateIAmAliveAsync(new MembershipEntry { SiloAddress = row.SiloAddress, IAmAliveTime = beat });

        var after = await _table.ReadRowAsync(row.SiloAddress);
        var (stored, etagAfter) = after.Members.Single();
        Assert.Equal(beat, stored.IAmAliveTime);
        Assert.Equal(before.Version, after.Version);
        Assert.Equal(etagBefore, etagAfter);
        row.IAmAliveTime = beat;
        Rows.AssertSame(row, stored);

        // The runtime may still hold the pre-heartbeat etag: its update must not fail because of the heartbeat.
        stored.Status = SiloStatus.Active;
        Assert.True(await _table.UpdateRowAsync(stored, etagBefore, before.Version.Next()));
    }

    [Fact]
    public async Task Cleanup_removes_only_dead_rows_older_than_the_cutoff_and_a_repeat_writes_nothing()
    {
        var old = Rows.Truncate(DateTime.UtcNow.AddDays(-10));
        var live = new List<MembershipEntry>();
        for (var i = 0; i < 3; i++)
        {
            var row = Rows.New(SiloStatus.Active);
            live.Add(row);
            await Rows.InsertAsync(_table, row);
        }

        var oldRows = new Dictionary<SiloStatus, MembershipEntry>();
        foreach (var status in new[] { SiloStatus.Created, SiloStatus.Joining, SiloStatus.Active, SiloStatus.ShuttingDown, SiloStatus.Stopping, SiloStatus.Dead })
        {
            var row = Rows.New(status, old);
            oldRows[status] = row;
            await Rows.InsertAsync(_table, row);
            await _table.UpdateIAmAliveAsync(new MembershipEntry { SiloAddress = row.SiloAddress, IAmAliveTime = old });
        }

        var before = await _table.ReadAllAsync();
        await _table.CleanupDefunctSiloEntriesAsync(old.AddDays(3));
        var after = await _table.ReadAllAsync();
        Assert.Equal(before.Members.Count - 1, after.Members.Count);
        Assert.DoesNotContain(after.Members, m => m.Item1.SiloAddress.Equals(oldRows[SiloStatus.Dead].SiloAddress));
        Assert.True(after.Version.Version >= before.Version.Version);

        await _table.CleanupDefunctSiloEntriesAsync(old.AddDays(3));
        var again = await _table.ReadAllAsync();
        Assert.Equal(after.Version, again.Version);
        Assert.Equal(after.Members.Count, again.Members.Count);
    }
}

using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Grains.Tests.Support;

namespace CacheProvider.Grains.Tests.Reminders;

/// <summary>ReminderTableTestsBase (contract §3.5) plus the provider-specific cases, against a real server.</summary>
public sealed class ReminderTableTests(ITestOutputHelper output)
{
    private static GrainId NewGrainId() =>
        GrainId.Create(GrainType.Create("my-remindable-grain"), GrainIdKeyExtensions.CreateGuidKey(Guid.NewGuid(), "foo/bar\\#baz?"));

    private static ReminderEntry CreateReminder(GrainId grainId, string name)
    {
        var now = DateTime.UtcNow;
        return new ReminderEntry
        {
            GrainId = grainId,
            ReminderName = name,
            Period = TimeSpan.FromMinutes(1),
            StartAt = new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc),
        };
    }

    private async Task<(GrainsTestHost, NatsReminderTable)> StartAsync(Action<NatsReminderTableOptions>? configure = null)
    {
        var host = await GrainsTestHost.StartAsync(output);
        var table = host.CreateReminderTable(configure);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await table.StartAsync(cts.Token);
        return (host, table);
    }

    [Fact]
    public async Task RemindersTable_Init()
    {
        var (host, table) = await StartAsync();
        await using var _ = host;
        await table.TestOnlyClearTable();
    }

    [Fact]
    public async Task ReminderSimple()
    {
        var (host, table) = await StartAsync();
        await using var _ = host;
        var reminder = CreateReminder(NewGrainId(), "foo/bar\\#b_a_z?");
        await table.UpsertRow(reminder);
        var read = await table.ReadRow(reminder.GrainId, reminder.ReminderName);
        Assert.NotNull(read);
        Assert.NotNull(read.ETag);
        Assert.Equal(reminder.GrainId, read.GrainId);
        Assert.Equal(reminder.Period, read.Period);
        Assert.Equal(reminder.ReminderName, read.ReminderName);
        Assert.Equal(reminder.StartAt, read.StartAt);
        var e1 = read.ETag;
        reminder.StartAt = DateTime.UtcNow;
        var e2 = await table.UpsertRow(reminder);
        Assert.NotNull(e2);
        Assert.False(await table.RemoveRow(reminder.GrainId, reminder.ReminderName, e1));
        Assert.False(await table.RemoveRow(reminder.GrainId, "bla", e2));
        Assert.True(await table.RemoveRow(reminder.GrainId, reminder.ReminderName, e2));
        Assert.False(await table.RemoveRow(reminder.GrainId, reminder.ReminderName, e2));
        Assert.Null(await table.ReadRow(reminder.GrainId, reminder.ReminderName));
        await table.TestOnlyClearTable();
    }

    [Fact]
    public async Task RemindersParallelUpsert()
    {
        var (host, table) = await StartAsync();
        await using var _ = host;
        var t0 = DateTime.UtcNow;
        for (var i = 0; i < 5; i++)
        {
            var grain = NewGrainId();
            var tasks = Enumerable.Range(1, 5).Select(j =>
            {
                var entry = CreateReminder(grain, i.ToString());
                entry.StartAt = t0.AddMilliseconds(j);
                return Storage.StorageAssert.Retry(() => table.UpsertRow(entry));
            });
            var etags = await Task.WhenAll(tasks);
            Assert.Equal(5, etags.Distinct().Count());
        }

        await table.TestOnlyClearTable();
    }

    [Fact]
    public async Task RemindersRange_50()
    {
        var (host, table) = await StartAsync();
        await using var _ = host;
        const int iterations = 50;
        var rows = Enumerable.Range(0, iterations).Select(i => CreateReminder(NewGrainId(), i.ToString())).ToList();
        await Task.WhenAll(rows.Select(r => Storage.StorageAssert.Retry(() => table.UpsertRow(r), 10)));
        Assert.Equal(iterations, (await table.ReadRows(0, uint.MaxValue)).Reminders.Count);
        Assert.Equal(iterations, (await table.ReadRows(0, 0)).Reminders.Count);
        var hashes = rows.Select(r => r.GrainId.GetUniformHashCode()).ToList();
        for (var i = 0; i < iterations; i++)
        {
            var begin = (uint)Random.Shared.Next(int.MinValue, int.MaxValue);
            var end = (uint)Random.Shared.Next(int.MinValue, int.MaxValue);
            var expected = hashes.Where(h => begin < end ? h > begin && h <= end : h > begin || h <= end).ToHashSet();
            var actual = (await table.ReadRows(begin, end)).Reminders.Select(r => r.GrainId.GetUniformHashCode()).ToHashSet();
            Assert.True(expected.SetEquals(actual), $"range ({begin}, {end}]");
        }

        await table.TestOnlyClearTable();
        Assert.Empty((await table.ReadRows(0, 0)).Reminders);
    }

    [Fact]
    public async Task With_its_bucket_deleted_calls_fail_with_a_NatsReminderTableException_naming_the_operation_and_the_NATS_error()
    {
        var (host, table) = await StartAsync(o => o.Bucket = "reminders-to-delete");
        await using var _ = host;
        var reminder = CreateReminder(NewGrainId(), "r");
        await table.UpsertRow(reminder);
        Assert.True(await new CacheProvider.KeyValue.KvContext(host.Connection).DeleteBucketAsync("reminders-to-delete"));

        var ex = await Assert.ThrowsAsync<NatsReminderTableException>(() => table.UpsertRow(reminder, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("UpsertRow failed", ex.Message);
        Assert.Contains("NATS.", ex.Message);
        Assert.Null(ex.InnerException);
    }

    [Fact]
    public async Task A_grain_with_an_empty_key_reads_back_from_grain_range_and_row_reads()
    {
        var (host, table) = await StartAsync();
        await using var _ = host;
        var grainId = GrainId.Parse("empty-key-grain/");
        Assert.True(grainId.Key.IsDefault || grainId.Key.Value.Length == 0);
        var reminder = CreateReminder(grainId, "r");
        await table.UpsertRow(reminder);

        var byGrain = await table.ReadRows(grainId);
        var all = await table.ReadRows(0, 0);
        var row = await table.ReadRow(grainId, "r");

        Assert.Equal(grainId, Assert.Single(byGrain.Reminders).GrainId);
        Assert.Equal(grainId, Assert.Single(all.Reminders).GrainId);
        Assert.NotNull(row);
        Assert.Equal(grainId, row.GrainId);
        Assert.Equal(grainId.GetUniformHashCode(), row.GrainId.GetUniformHashCode());
    }

    [Fact]
    public async Task Upsert_with_the_current_ETag_keeps_exactly_one_row_with_tick_exact_times()
    {
        var (host, table) = await StartAsync();
        await using var _ = host;
        var grain = GrainId.Create("clientaccount", Guid.NewGuid().ToString("N"));
        var entry = new ReminderEntry
        {
            GrainId = grain,
            ReminderName = "r",
            Period = TimeSpan.FromDays(10),
            StartAt = new DateTime(2026, 5, 13, 18, 55, 8, DateTimeKind.Utc).AddTicks(8620861),
        };
        await table.UpsertRow(entry);
        entry.StartAt += TimeSpan.FromMinutes(5);
        await table.UpsertRow(entry);
        var rows = (await table.ReadRows(grain)).Reminders.Where(r => r.ReminderName == "r").ToList();
        var row = Assert.Single(rows);
        Assert.Equal(entry.StartAt.Ticks, row.StartAt.Ticks);
        Assert.Equal(entry.Period.Ticks, row.Period.Ticks);
        Assert.Equal(DateTimeKind.Utc, row.StartAt.Kind);
    }

    [Fact]
    public async Task Unspecified_start_time_keeps_its_ticks_and_reads_back_as_Utc()
    {
        var (host, table) = await StartAsync();
        await using var _ = host;
        var entry = CreateReminder(NewGrainId(), "u");
        entry.StartAt = new DateTime(638_000_000_123_456_789, DateTimeKind.Unspecified);
        await table.UpsertRow(entry);
        var read = await table.ReadRow(entry.GrainId, "u");
        Assert.Equal(entry.StartAt.Ticks, read!.StartAt.Ticks);
        Assert.Equal(DateTimeKind.Utc, read.StartAt.Kind);
    }

    [Fact]
    public async Task ReadRows_of_a_grain_returns_only_its_rows_with_current_ETags_and_empty_when_none()
    {
        var (host, table) = await StartAsync();
        await using var _ = host;
        var a = GrainId.Parse("b__c/d");
        var b = GrainId.Parse("c/d");
        var ea = await table.UpsertRow(new ReminderEntry { GrainId = a, ReminderName = "a", Period = TimeSpan.FromSeconds(1) });
        await table.UpsertRow(new ReminderEntry { GrainId = b, ReminderName = "a__b", Period = TimeSpan.FromSeconds(1) });
        await table.UpsertRow(new ReminderEntry { GrainId = a, ReminderName = "x", Period = TimeSpan.FromSeconds(1) });
        var rows = (await table.ReadRows(a)).Reminders;
        Assert.Equal(["a", "x"], rows.Select(r => r.ReminderName).Order().ToArray());
        Assert.Equal(ea, rows.Single(r => r.ReminderName == "a").ETag);
        Assert.Single((await table.ReadRows(b)).Reminders);
        Assert.Empty((await table.ReadRows(NewGrainId())).Reminders);
        Assert.Null(await table.ReadRow(a, "missing"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-number")]
    [InlineData("0")]
    [InlineData("123456")]
    public async Task RemoveRow_returns_false_and_never_throws_for_bad_or_stale_ETags(string eTag)
    {
        var (host, table) = await StartAsync();
        await using var _ = host;
        var entry = CreateReminder(NewGrainId(), "r");
        await table.UpsertRow(entry);
        Assert.False(await table.RemoveRow(entry.GrainId, "r", eTag));
        Assert.False(await table.RemoveRow(NewGrainId(), "r", entry.ETag!));
        Assert.NotNull(await table.ReadRow(entry.GrainId, "r"));
    }

    [Fact]
    public async Task Range_reads_touch_about_the_fraction_of_rows_in_the_range_not_the_whole_table()
    {
        var (host, table) = await StartAsync();
        await using var _ = host;
        const int count = 1_600;
        var rows = Enumerable.Range(0, count).Select(i => CreateReminder(GrainId.Create("g", i.ToString()), "r")).ToList();
        await Parallel.ForEachAsync(rows, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (r, ct) => await table.UpsertRow(r, ct));
        var touchedBefore = table.RowsTouched;
        var begin = 0x40000000u;
        var end = begin + (uint.MaxValue / 16);
        var result = await table.ReadRows(begin, end);
        var touched = table.RowsTouched - touchedBefore;
        var expected = rows.Count(r => HashRangeFilter(r.GrainId.GetUniformHashCode(), begin, end));
        Assert.Equal(expected, result.Reminders.Count);
        output.WriteLine($"range 1/16 of {count}: {expected} rows in range, {touched} touched");
        Assert.True(touched <= expected + 20, $"touched {touched}, in range {expected}");

        touchedBefore = table.RowsTouched;
        Assert.Equal(count, (await table.ReadRows(0, 0)).Reminders.Count);
        Assert.Equal(count, table.RowsTouched - touchedBefore);
    }

    private static bool HashRangeFilter(uint h, uint begin, uint end) => begin < end ? h > begin && h <= end : h > begin || h <= end;
}

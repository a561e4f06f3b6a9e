using CacheProvider.Bench.Reporting;
using System.Diagnostics;
using CacheProvider.KeyValue;
using CacheProvider.Testing;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using StackExchange.Redis;

namespace CacheProvider.Grains.Measure;

/// <summary>
/// Range reads covering 1/16 of the hash ring on 10,000 reminders: our <see cref="NatsReminderTable"/> vs Orleans'
/// Redis reminder table, both populated with the same rows. Rows touched: ours counts every KV entry it reads
/// (<see cref="NatsReminderTable.RowsTouched"/>); Orleans' Redis table keeps all rows in one sorted set and reads a
/// range with ZRANGEBYLEX, which visits only the rows it returns, so its rows touched are the rows returned.
/// </summary>
internal static class Reminders
{
    private const int Rows = 10_000;
    private const int Repetitions = 20;

    public static async Task MeasureAsync(INatsConnection connection, RedisServer? redis, string serviceId)
    {
        var entries = Enumerable.Range(0, Rows).Select(i => new ReminderEntry
        {
            GrainId = GrainId.Create("remindable", Guid.NewGuid().ToString("N")),
            ReminderName = "r" + (i % 3),
            Period = TimeSpan.FromMinutes(1),
            StartAt = DateTime.UtcNow,
        }).ToList();
        var random = new Random(13);
        var ranges = Enumerable.Range(0, Repetitions).Select(_ =>
        {
            var begin = (uint)random.NextInt64(0, uint.MaxValue);
            return (Begin: begin, End: unchecked(begin + (uint.MaxValue / 16)));
        }).ToArray();

        NatsReminderTable? ours = null;
        IReminderTable? peer = null;
        ServiceProvider? peerServices = null;
        string? oursError = null, peerError = null;
        try
        {
            ours = new NatsReminderTable(new NatsReminderTableOptions { ServiceId = serviceId, Bucket = "measure-reminders", Storage = KvStorage.Memory }, connection);
            await ours.StartAsync();
            await FillAsync(ours, entries);
        }
        catch (Exception ex)
        {
            oursError = Report.Describe(ex);
        }

        try
        {
            if (redis is null)
            {
                throw new InvalidOperationException("no redis-server");
            }

            var services = new ServiceCollection();
            services.AddLogging();
            services.Configure<ClusterOptions>(o =>
            {
                o.ServiceId = serviceId;
                o.ClusterId = "measure";
            });
            var configuration = redis.Configuration;
            services.UseRedisReminderService(o => o.ConfigurationOptions = ConfigurationOptions.Parse(configuration));
            peerServices = services.BuildServiceProvider();
            peer = peerServices.GetRequiredService<IReminderTable>();
            await peer.StartAsync();
            await FillAsync(peer, entries);
        }
        catch (Exception ex)
        {
            peerError = Report.Describe(ex);
        }

        try
        {
            var o = ours is null ? default : await RangeReadsAsync(ours, ranges, () => ours.RowsTouched);
            var p = peer is null ? default : await RangeReadsAsync(peer, ranges, null);
            var suffix = $"range_1_16_of_{Rows}";
            Report.Print($"reminder_{suffix}_rows_returned", Value(o.Returned, oursError), Value(p.Returned, peerError), "F0");
            Report.Print($"reminder_{suffix}_rows_touched", Value(o.Touched, oursError), Value(p.Touched, peerError), "F0",
                "(peer: ZRANGEBYLEX on one sorted set visits only the returned rows)");
            Report.Print($"reminder_{suffix}_ms", Value(o.Ms, oursError), Value(p.Ms, peerError), "F2");
        }
        catch (Exception ex)
        {
            Console.WriteLine($"reminder_range_1_16_of_{Rows}: error={Report.Describe(ex)}");
        }
        finally
        {
            await TryAsync(ours?.TestOnlyClearTable());
            await TryAsync(peer?.TestOnlyClearTable());
            if (peerServices is not null)
            {
                await peerServices.DisposeAsync();
            }
        }
    }

    private static (double? Value, string? Error) Value(double value, string? error) => error is null ? (value, null) : (null, error);

    private static async Task TryAsync(Task? task)
    {
        try
        {
            if (task is not null)
            {
                await task;
            }
        }
        catch (Exception ex)
        {
            Console.WriteLine($"# reminder table clear: {Report.Describe(ex)}");
        }
    }

    private static async Task FillAsync(IReminderTable table, List<ReminderEntry> entries) =>
        await Parallel.ForEachAsync(entries, new ParallelOptions { MaxDegreeOfParallelism = Bench.Concurrency }, async (e, ct) =>
        {
            // Each table gets its own copy: UpsertRow may set the entry's ETag.
            var copy = new ReminderEntry { GrainId = e.GrainId, ReminderName = e.ReminderName, Period = e.Period, StartAt = e.StartAt };
            await table.UpsertRow(copy, ct);
        });

    private static async Task<(double Returned, double Touched, double Ms)> RangeReadsAsync(IReminderTable table, (uint Begin, uint End)[] ranges, Func<long>? touched)
    {
        await table.ReadRows(ranges[0].Begin, ranges[0].End); // warm-up
        long returned = 0, rows = 0;
        var time = TimeSpan.Zero;
        foreach (var (begin, end) in ranges)
        {
            var before = touched?.Invoke() ?? 0;
            var sw = Stopwatch.StartNew();
            var result = await table.ReadRows(begin, end);
            time += sw.Elapsed;
            returned += result.Reminders.Count;
            rows += touched is null ? result.Reminders.Count : touched() - before;
        }

        return (returned / (double)ranges.Length, rows / (double)ranges.Length, time.TotalMilliseconds / ranges.Length);
    }
}

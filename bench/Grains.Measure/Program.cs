using System.Collections.Concurrent;
using System.Diagnostics;
using CacheProvider.Grains;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Testing;
using NATS.Client.Core;

// Measurements of the grain side (no peer to compare with): one line per figure.
//   dotnet run -c Release --project bench/Grains.Measure [-- --seconds 5]
var seconds = args.Length == 2 && args[0] == "--seconds" ? int.Parse(args[1]) : 5;
await using var server = await NatsServer.StartAsync();
await using var connection = await server.ConnectAsync();
var serviceId = Guid.NewGuid() + "/measure";

await MeasureStateAsync(connection, serviceId, seconds);
await MeasureRemindersAsync(connection, serviceId);
await MeasureExpiryAsync(connection, serviceId);

static async Task MeasureStateAsync(INatsConnection connection, string serviceId, int seconds)
{
    const int concurrency = 64;
    var storage = new NatsGrainStorage("measure", new NatsGrainStorageOptions { ServiceId = serviceId }, connection);
    await storage.StartAsync();
    var states = new GrainState<Payload>[concurrency];
    for (var i = 0; i < concurrency; i++)
    {
        states[i] = new GrainState<Payload>(new Payload { Name = "grain " + i, Data = new string('x', 200) });
        await storage.WriteStateAsync("state", GrainId.Create("measure", i.ToString()), states[i]);
    }

    foreach (var op in new[] { "write", "read" })
    {
        long count = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var sw = Stopwatch.StartNew();
        var workers = new Task[concurrency];
        for (var w = 0; w < concurrency; w++)
        {
            var index = w;
            workers[w] = Task.Run(async () =>
            {
                var id = GrainId.Create("measure", index.ToString());
                var state = states[index];
                while (!cts.IsCancellationRequested)
                {
                    if (op == "write")
                    {
                        state.State!.Counter++;
                        await storage.WriteStateAsync("state", id, state);
                    }
                    else
                    {
                        await storage.ReadStateAsync("state", id, state);
                    }

                    Interlocked.Increment(ref count);
                }
            });
        }

        await Task.WhenAll(workers);
        Console.WriteLine($"grain_state_{op}_64_concurrent_ops_per_s: {count / sw.Elapsed.TotalSeconds:F0}");
    }
}

static async Task MeasureRemindersAsync(INatsConnection connection, string serviceId)
{
    const int rows = 10_000;
    var table = new NatsReminderTable(new NatsReminderTableOptions { ServiceId = serviceId }, connection);
    await table.StartAsync();
    var entries = Enumerable.Range(0, rows).Select(i => new ReminderEntry
    {
        GrainId = GrainId.Create("remindable", Guid.NewGuid().ToString("N")),
        ReminderName = "r" + (i % 3),
        Period = TimeSpan.FromMinutes(1),
        StartAt = DateTime.UtcNow,
    }).ToList();
    await Parallel.ForEachAsync(entries, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (e, ct) => await table.UpsertRow(e, ct));

    const int repetitions = 20;
    var random = new Random(1);
    long touched = 0, returned = 0;
    var rangeTime = TimeSpan.Zero;
    for (var i = 0; i < repetitions; i++)
    {
        var begin = (uint)random.NextInt64(0, uint.MaxValue);
        var end = unchecked(begin + (uint.MaxValue / 16));
        var before = table.RowsTouched;
        var sw = Stopwatch.StartNew();
        var result = await table.ReadRows(begin, end);
        rangeTime += sw.Elapsed;
        touched += table.RowsTouched - before;
        returned += result.Reminders.Count;
    }

    var fullTime = TimeSpan.Zero;
    long fullTouched = 0;
    for (var i = 0; i < 5; i++)
    {
        var before = table.RowsTouched;
        var sw = Stopwatch.StartNew();
        await table.ReadRows(0, 0);
        fullTime += sw.Elapsed;
        fullTouched += table.RowsTouched - before;
    }

    Console.WriteLine($"reminder_range_1_16_of_{rows}_rows_returned: {returned / (double)repetitions:F0}");
    Console.WriteLine($"reminder_range_1_16_of_{rows}_rows_touched: {touched / (double)repetitions:F0}");
    Console.WriteLine($"reminder_range_1_16_ms: {rangeTime.TotalMilliseconds / repetitions:F1}");
    Console.WriteLine($"reminder_full_scan_rows_touched: {fullTouched / 5.0:F0}");
    Console.WriteLine($"reminder_full_scan_ms: {fullTime.TotalMilliseconds / 5:F1}");
    await table.TestOnlyClearTable();
}

static async Task MeasureExpiryAsync(INatsConnection connection, string serviceId)
{
    const int keys = 500;
    var storage = new NatsGrainStorage("expiry", new NatsGrainStorageOptions { ServiceId = serviceId, Bucket = "measure-expiry", DefaultStateTtl = TimeSpan.FromSeconds(2) }, connection);
    await using var watcher = new GrainStateWatcher(storage);
    await watcher.StartAsync();
    var bucket = await storage.GetBucketAsync(CancellationToken.None);
    var deadlines = new ConcurrentDictionary<string, DateTimeOffset>();
    var latencies = new ConcurrentBag<double>();
    using var done = new CountdownEvent(keys);
    var registrations = new List<GrainStateWatchRegistration>();
    for (var i = 0; i < keys; i++)
    {
        var id = GrainId.Create("expiring", i.ToString());
        var state = new GrainState<Payload>(new Payload { Name = "e" });
        await storage.WriteStateAsync("state", id, state);
        var key = storage.GetStateKey("state", id);
        var entry = await bucket.GetLastAsync(key);
        deadlines[key] = entry!.ExpiresAt!.Value;
        registrations.Add(watcher.Register(key, entry.Revision, (change, _) =>
        {
            if (change.Kind == GrainStateChangeKind.Expired && deadlines.TryRemove(change.StateKey, out var deadline))
            {
                latencies.Add((DateTimeOffset.UtcNow - deadline).TotalMilliseconds);
                done.Signal();
            }
        }));
    }

    done.Wait(TimeSpan.FromSeconds(30));
    var sorted = latencies.Order().ToArray();
    Console.WriteLine($"deactivation_callbacks_received: {sorted.Length}/{keys}");
    if (sorted.Length > 0)
    {
        Console.WriteLine($"deactivation_callback_after_expiry_p50_ms: {sorted[sorted.Length / 2]:F0}");
        Console.WriteLine($"deactivation_callback_after_expiry_p99_ms: {sorted[(int)(sorted.Length * 0.99)]:F0}");
        Console.WriteLine($"deactivation_callback_after_expiry_max_ms: {sorted[^1]:F0}");
    }

    foreach (var r in registrations)
    {
        r.Dispose();
    }
}

internal sealed class Payload
{
    public string Name { get; set; } = string.Empty;

    public string Data { get; set; } = string.Empty;

    public long Counter { get; set; }
}

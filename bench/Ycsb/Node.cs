using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;

namespace CacheProvider.Bench.Ycsb;

/// <summary>Settings of one node process (passed by the coordinator on the command line).</summary>
internal sealed record NodeSettings(
    int Index, StoreKind Kind, string NatsUrl, string RedisConfiguration, int Records, Workload Workload, double Seconds, int InFlight, bool Preload, string Output);

/// <summary>
/// One app node: builds its cache, loads the records if asked (node 0; the other waits for it), says "ready", runs the
/// workload from "go" for the given time with a fixed number of operations in flight, then saves its log. Values are
/// 1 KiB; their first 8 bytes carry the writing node and a sequence number, so a read knows which write it returned.
/// </summary>
internal static class Node
{
    public const int ValueBytes = 1024;

    public static string Key(int record) => "user" + record.ToString(CultureInfo.InvariantCulture);

    public static async Task<int> RunAsync(NodeSettings settings)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(settings.Seconds + 300));
        await using var store = await Store.CreateAsync(settings.Kind, settings.NatsUrl, settings.RedisConfiguration, stop.Token).ConfigureAwait(false);
        if (settings.Preload)
        {
            await PreloadAsync(store, settings, stop.Token).ConfigureAwait(false);
        }

        Console.WriteLine("ready");
        if (Console.ReadLine() != "go")
        {
            return 2;
        }

        var log = new NodeLog();
        using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        var watch = settings.Kind.Invalidates() && store.Nats is { } nats ? WatchAsync(nats, log, watchStop.Token) : Task.CompletedTask;
        await RunWorkloadAsync(store, settings, log, stop.Token).ConfigureAwait(false);

        // Let the last changes of the other node arrive before the watch stops (its run ends at about the same time).
        await Task.Delay(500, CancellationToken.None).ConfigureAwait(false);
        await watchStop.CancelAsync().ConfigureAwait(false);
        try
        {
            await watch.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        log.Save(settings.Output);
        Console.WriteLine("done");
        return 0;
    }

    private static async Task PreloadAsync(Store store, NodeSettings settings, CancellationToken cancellationToken)
    {
        var next = -1;
        async Task Loader()
        {
            var value = NewValue(0);
            int i;
            while ((i = Interlocked.Increment(ref next)) < settings.Records)
            {
                await store.SetAsync(Key(i), value, cancellationToken).ConfigureAwait(false);
            }
        }

        var loaders = new Task[settings.InFlight];
        for (var w = 0; w < loaders.Length; w++)
        {
            loaders[w] = Loader();
        }

        await Task.WhenAll(loaders).ConfigureAwait(false);
    }

    private static async Task RunWorkloadAsync(Store store, NodeSettings settings, NodeLog log, CancellationToken cancellationToken)
    {
        var zetan = ScrambledZipfian.Zeta(settings.Records, 0.99);
        var end = Stopwatch.GetTimestamp() + (long)(settings.Seconds * Stopwatch.Frequency);
        var workers = new Task<NodeLog>[settings.InFlight];
        var started = Stopwatch.GetTimestamp();
        for (var w = 0; w < workers.Length; w++)
        {
            var seed = (settings.Index * 1000) + w;
            workers[w] = Task.Run(() => WorkerAsync(store, settings, new ScrambledZipfian(settings.Records, 0.99, new Random(seed), zetan), seed, end, cancellationToken), cancellationToken);
        }

        foreach (var part in await Task.WhenAll(workers).ConfigureAwait(false))
        {
            log.Writes.AddRange(part.Writes);
            log.Reads.AddRange(part.Reads);
            log.LatencyTicks.AddRange(part.LatencyTicks);
            log.Errors += part.Errors;
            log.Misses += part.Misses;
        }

        log.Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static async Task<NodeLog> WorkerAsync(Store store, NodeSettings settings, ScrambledZipfian keys, int seed, long end, CancellationToken cancellationToken)
    {
        var log = new NodeLog();
        var random = new Random(seed ^ 0x5EED);
        var node = (long)(settings.Index + 1) << 40;
        var sequence = (long)seed << 24;
        while (Stopwatch.GetTimestamp() < end)
        {
            var record = (int)keys.Next();
            var key = Key(record);
            var start = Stopwatch.GetTimestamp();
            try
            {
                if (random.NextDouble() < settings.Workload.ReadProportion)
                {
                    var value = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
                    log.LatencyTicks.Add(Stopwatch.GetTimestamp() - start);
                    if (value is null)
                    {
                        log.Misses++;
                    }

                    log.Reads.Add(new ReadRecord(record, value is null ? -1 : BinaryPrimitives.ReadInt64LittleEndian(value), start));
                }
                else
                {
                    var id = node | ++sequence;
                    await store.SetAsync(key, NewValue(id), cancellationToken).ConfigureAwait(false);
                    var ack = Stopwatch.GetTimestamp();
                    log.LatencyTicks.Add(ack - start);
                    log.Writes.Add(new WriteRecord(record, id, start, ack));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                log.Errors++;
            }
        }

        return log;
    }

    private static async Task WatchAsync(CacheProvider.Caching.NatsDistributedCache cache, NodeLog log, CancellationToken cancellationToken)
    {
        await foreach (var change in cache.WatchChangesByOthersAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var ts = Stopwatch.GetTimestamp();
            if (change.Key is { } key && key.StartsWith("user", StringComparison.Ordinal)
                && int.TryParse(key.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var record))
            {
                log.Changes.Add(new ChangeRecord(record, ts));
            }
        }
    }

    private static byte[] NewValue(long id)
    {
        var value = new byte[ValueBytes];
        Random.Shared.NextBytes(value.AsSpan(8));
        BinaryPrimitives.WriteInt64LittleEndian(value, id);
        return value;
    }
}

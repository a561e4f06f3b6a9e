using CacheProvider.Bench.Reporting;
using System.Diagnostics;
using System.Globalization;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Caching.Distributed;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.GrainCache.Measure;

/// <summary>A grain cache whose expiry is measured: how it is called, which grain type serves it, what its store still holds.</summary>
/// <param name="MarkerBucket">Where the side's entries live in KV, when they do: a bench watch on it times the server's expiry markers.</param>
internal sealed record ExpirySide(string Name, IDistributedCache Cache, string KeyPrefix, GrainType GrainType, Func<Task<(long Entries, string Detail)>> StoredEntries, KvBucket? MarkerBucket = null);

/// <summary>What one side left behind after its entries expired, and how late its grains went.</summary>
internal sealed record ExpiryResult
{
    public int Count { get; init; }

    public int Failed { get; init; }

    public string? FirstFailure { get; init; }

    public double FillSeconds { get; init; }

    public long LiveAtFillEnd { get; init; }

    public double ManagedMbBefore { get; init; }

    public double ManagedMbAfter { get; init; }

    public double WorkingSetMbBefore { get; init; }

    public double WorkingSetMbAfter { get; init; }

    /// <summary>Live activations of the side's grain type (Orleans' management grain) at the measuring moment.</summary>
    public int Activations { get; init; }

    public long StoredEntries { get; init; }

    public string StoredDetail { get; init; } = string.Empty;

    /// <summary>Deadline → deactivation done, ms, sorted; only grains that deactivated by the measuring moment.</summary>
    public double[] LagsMs { get; init; } = [];

    /// <summary>Seconds after the measuring moment until activations and stored entries were both 0 (null: not within the patience).</summary>
    public double? DrainedAfterSeconds { get; init; }

    /// <summary>Seconds from the last deadline to the measuring moment.</summary>
    public double SettleSeconds { get; init; }

    /// <summary>Where the lag goes (KV sides): the server's expiry, a watch's delivery of the marker, the deactivation.</summary>
    public string? LagBreakdown { get; init; }
}

/// <summary>
/// Sets <c>count</c> 1 KiB entries with a relative expiration (64 in flight), waits until the last deadline plus
/// <c>settle</c> (ours' limit-marker TTL plus slack, the same wait for every side), then counts live activations of
/// the side's grain type, entries left in its store and the process's memory after a full collection (client and silo
/// share the process; the figures are deltas from just before the fill). Each grain's deadline is taken on the client
/// right before its Set (= the absolute expiration the cache computes); its deactivation time comes from
/// <see cref="DeactivationLog"/>.
/// </summary>
internal static class Expiry
{
    private static readonly TimeSpan DrainPatience = TimeSpan.FromSeconds(60);

    public static async Task<ExpiryResult> RunAsync(ExpirySide side, IClusterClient client, int count, TimeSpan ttl, TimeSpan settle, bool waitForDrain = true)
    {
        var stamps = DeactivationLog.TrackKeys(side.KeyPrefix, count);
        var deadlines = new long[count];
        var value = new byte[1024];
        Random.Shared.NextBytes(value);
        var options = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = ttl };
        var ttlTicks = (long)(ttl.TotalSeconds * Stopwatch.Frequency);
        var markers = side.MarkerBucket is { } bucket ? await MarkerWatch.TryStartAsync(bucket, side.KeyPrefix, count) : null;
        var (managedBefore, workingSetBefore) = Memory();

        var failed = 0;
        string? firstFailure = null;
        var fill = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Throughput.InFlight }, async (i, ct) =>
        {
            deadlines[i] = Stopwatch.GetTimestamp() + ttlTicks;
            markers?.SetDeadline(i, ttl);
            try
            {
                await side.Cache.SetAsync(side.KeyPrefix + i, value, options, ct);
            }
            catch (Exception ex)
            {
                deadlines[i] = 0;
                Interlocked.Increment(ref failed);
                Interlocked.CompareExchange(ref firstFailure, Report.Describe(ex), null);
            }
        });
        var fillSeconds = fill.Elapsed.TotalSeconds;
        var liveAtFillEnd = DeactivationLog.LiveCount(side.GrainType);

        var measureAt = deadlines.Max() + (long)(settle.TotalSeconds * Stopwatch.Frequency);
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), measureAt);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        var activations = await ActivationsAsync(client, side.GrainType);
        var (stored, detail) = await side.StoredEntries();
        var (managedAfter, workingSetAfter) = Memory();

        var lags = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var stamp = Volatile.Read(ref stamps[i]);
            if (deadlines[i] != 0 && stamp != 0 && stamp <= measureAt)
            {
                lags.Add((stamp - deadlines[i]) * 1000.0 / Stopwatch.Frequency);
            }
        }

        string? breakdown = null;
        if (markers is not null)
        {
            await markers.DisposeAsync();
            breakdown = markers.Breakdown(deadlines, stamps, measureAt);
        }

        double? drained = activations == 0 && stored == 0 ? 0 : null;
        if (waitForDrain && (activations > 0 || stored > 0))
        {
            var start = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(start) < DrainPatience)
            {
                await Task.Delay(1000);
                if (await ActivationsAsync(client, side.GrainType) == 0 && (await side.StoredEntries()).Entries == 0)
                {
                    drained = Stopwatch.GetElapsedTime(start).TotalSeconds;
                    break;
                }
            }
        }

        return new ExpiryResult
        {
            Count = count,
            Failed = failed,
            FirstFailure = firstFailure,
            FillSeconds = fillSeconds,
            LiveAtFillEnd = liveAtFillEnd,
            ManagedMbBefore = managedBefore,
            ManagedMbAfter = managedAfter,
            WorkingSetMbBefore = workingSetBefore,
            WorkingSetMbAfter = workingSetAfter,
            Activations = activations,
            StoredEntries = stored,
            StoredDetail = detail,
            LagsMs = [.. lags.Order()],
            DrainedAfterSeconds = drained,
            SettleSeconds = settle.TotalSeconds,
            LagBreakdown = breakdown,
        };
    }

    /// <summary>
    /// Managed KiB per live entry: <paramref name="count"/> 1 KiB entries that live 10 min, set 64 in flight, managed heap
    /// after a full collection before and after (activation, value, directory entry, client side: the whole process).
    /// The entries are removed afterwards.
    /// </summary>
    public static async Task<Outcome> FootprintAsync(IDistributedCache cache, string prefix, int count)
    {
        try
        {
            var value = new byte[1024];
            Random.Shared.NextBytes(value);
            var options = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };
            var (before, _) = Memory();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Throughput.InFlight },
                async (i, ct) => await cache.SetAsync(prefix + i, value, options, ct));
            var (after, _) = Memory();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Throughput.InFlight },
                async (i, ct) => await cache.RemoveAsync(prefix + i, ct));
            return Outcome.Of((after - before) * 1024 / count);
        }
        catch (Exception ex)
        {
            return Outcome.Failed(ex);
        }
    }

    /// <summary>Live activations of <paramref name="type"/> in the cluster, from Orleans' management grain.</summary>
    public static async Task<int> ActivationsAsync(IClusterClient client, GrainType type)
    {
        var stats = await client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        var n = 0;
        foreach (var s in stats)
        {
            if (s.GrainId.Type.Equals(type))
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>Managed heap after a full blocking collection and the process working set, MiB.</summary>
    private static (double Managed, double WorkingSet) Memory()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var managed = GC.GetTotalMemory(forceFullCollection: true);
        return (managed / 1048576.0, Environment.WorkingSet / 1048576.0);
    }
}

/// <summary>
/// A bench-side watch of a KV bucket that notes, for keys ending in <c>{prefix}{i}</c>, when the server's expiry marker
/// was written (its server timestamp) and when the watch saw it, to split the deactivation lag into the server's part,
/// the delivery and the silo's part. Arrays are preallocated before the memory baseline.
/// </summary>
internal sealed class MarkerWatch : IAsyncDisposable
{
    private readonly string _prefix;
    private readonly long[] _deadlineUnixMs;
    private readonly long[] _serverDeadlineUnixMs;
    private readonly long[] _createdUnixMs;
    private readonly long[] _seen;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private string? _error;

    private MarkerWatch(string prefix, int count)
    {
        _prefix = prefix;
        _deadlineUnixMs = new long[count];
        _serverDeadlineUnixMs = new long[count];
        _createdUnixMs = new long[count];
        _seen = new long[count];
    }

    /// <summary>Starts the watch; null (with a note) when it cannot: the breakdown is a diagnostic, not a result.</summary>
    public static async Task<MarkerWatch?> TryStartAsync(KvBucket bucket, string prefix, int count)
    {
        try
        {
            var watch = new MarkerWatch(prefix, count);
            var watcher = await bucket.StartWatchAsync([">"], new KvWatchOptions { UpdatesOnly = true, HeadersOnly = true });
            watch._loop = Task.Run(() => watch.RunAsync(watcher));
            return watch;
        }
        catch (Exception ex)
        {
            Console.WriteLine($"# marker watch not started: {Report.Describe(ex)}");
            return null;
        }
    }

    public void SetDeadline(int i, TimeSpan ttl) => _deadlineUnixMs[i] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)ttl.TotalMilliseconds;

    public string Breakdown(long[] deadlines, long[] deactivated, long measureAt)
    {
        List<double> write = [], server = [], seen = [], done = [];
        for (var i = 0; i < _seen.Length; i++)
        {
            if (_seen[i] == 0 || deadlines[i] == 0)
            {
                continue;
            }

            if (_serverDeadlineUnixMs[i] != 0)
            {
                write.Add(_serverDeadlineUnixMs[i] - _deadlineUnixMs[i]);
                server.Add(_createdUnixMs[i] - _serverDeadlineUnixMs[i]);
            }

            seen.Add((_seen[i] - deadlines[i]) * 1000.0 / Stopwatch.Frequency);
            if (deactivated[i] != 0 && deactivated[i] <= measureAt)
            {
                done.Add((deactivated[i] - _seen[i]) * 1000.0 / Stopwatch.Frequency);
            }
        }

        static string P(List<double> values)
        {
            if (values.Count == 0)
            {
                return "n/a";
            }

            var sorted = values.Order().ToArray();
            return string.Create(CultureInfo.InvariantCulture, $"{Report.Percentile(sorted, 0.5):F0}/{Report.Percentile(sorted, 0.99):F0}");
        }

        var failed = _error is null ? string.Empty : $" (watch failed: {_error})";
        return $"{seen.Count} expiry markers seen{failed}; p50/p99 ms: the server's deadline (write + whole-second TTL) fell {P(write)} after the client's, " +
            $"the server wrote the marker {P(server)} after its deadline, a bench KV watch saw it {P(seen)} after the client's deadline, " +
            $"the grain finished deactivating {P(done)} after the watch saw the marker";
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private async Task RunAsync(KvWatcher watcher)
    {
        try
        {
            await using var _ = watcher;
            await ReadAsync(watcher);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _error = Report.Describe(ex);
        }
    }

    private async Task ReadAsync(KvWatcher watcher)
    {
        await foreach (var entry in watcher.ReadAllAsync(_stop.Token))
        {
            var key = entry.Key;
            var token = key.AsSpan(key.LastIndexOf('.') + 1);
            if (!token.StartsWith(_prefix, StringComparison.Ordinal)
                || !int.TryParse(token[_prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var i)
                || (uint)i >= (uint)_seen.Length)
            {
                continue;
            }

            if (entry.IsValue && entry.ExpiresAt is { } expires)
            {
                _serverDeadlineUnixMs[i] = expires.ToUnixTimeMilliseconds();
            }
            else if (entry.MarkerReason == KvMarkerReason.Expired)
            {
                _seen[i] = Stopwatch.GetTimestamp();
                _createdUnixMs[i] = entry.Created.ToUnixTimeMilliseconds();
            }
        }
    }
}

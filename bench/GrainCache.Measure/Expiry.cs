using System.Diagnostics;
using Microsoft.Extensions.Caching.Distributed;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.GrainCache.Measure;

/// <summary>A grain cache whose expiry is measured: how it is called, which grain type serves it, what its store still holds.</summary>
internal sealed record ExpirySide(string Name, IDistributedCache Cache, string KeyPrefix, GrainType GrainType, Func<Task<(long Entries, string Detail)>> StoredEntries);

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
        var (managedBefore, workingSetBefore) = Memory();

        var failed = 0;
        string? firstFailure = null;
        var fill = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = Throughput.InFlight }, async (i, ct) =>
        {
            deadlines[i] = Stopwatch.GetTimestamp() + ttlTicks;
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
        };
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

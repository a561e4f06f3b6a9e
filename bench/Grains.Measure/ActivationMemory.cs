using Orleans;

namespace CacheProvider.Grains.Measure;

/// <summary>
/// Silo memory per registered activation (the silo runs in this process): managed heap after a full GC, per activation,
/// for N activations of the same grain and TTL'd state registered by the storage (ours, no grain code) and registered by
/// the grain itself through the storage's watcher (peer: how it was done before, as the sample did), each minus the
/// same grain unwatched. Goal: ours ≤ before.
/// </summary>
internal static class ActivationMemory
{
    private const int Activations = 5_000;

    public static async Task MeasureAsync(IGrainFactory? factory)
    {
        if (factory is null)
        {
            throw new InvalidOperationException("no silo");
        }

        var none = await PerActivationAsync(i => factory.GetGrain<IUnwatchedGrain>(2_000_000 + i));
        var auto = await PerActivationAsync(i => factory.GetGrain<IAutoWatchedGrain>(3_000_000 + i));
        var manual = await PerActivationAsync(i => factory.GetGrain<IManuallyWatchedGrain>(4_000_000 + i));
        var ours = auto - none;
        var before = manual - none;
        Console.WriteLine($"silo_memory_per_activation_bytes_{Activations}: unwatched={none:F0} storage_registered={auto:F0} grain_registered={manual:F0}");
        Console.WriteLine($"silo_memory_per_registered_activation_bytes: ours={ours:F0} peer={before:F0} ratio={(before > 0 ? ours / before : double.NaN):F2} (peer = the grain registering itself with GrainStateWatcher, as before; both minus the unwatched grain) goal<=peer met={(ours <= before ? "yes" : "no")}");
        Console.WriteLine("grain_code_lines_for_deactivation_on_expiry: ours=0 peer=14 (samples/Silo/CartGrain.cs now vs the issue's count of the manual way)");
    }

    private static async Task<double> PerActivationAsync(Func<int, IMemoryProbeGrain> grain)
    {
        var before = Heap();
        await Parallel.ForEachAsync(Enumerable.Range(0, Activations), new ParallelOptions { MaxDegreeOfParallelism = Bench.Concurrency }, async (i, _) => await grain(i).Start());
        await Task.Delay(500);
        var after = Heap();
        return (after - before) / (double)Activations;
    }

    private static long Heap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}

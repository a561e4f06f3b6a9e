using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Orleans.Metadata;
using Orleans.Runtime;

namespace CacheProvider.GrainCache.Measure;

/// <summary>
/// Silo-side observation of activations, with no hook in product code: Orleans runs every
/// <see cref="IConfigureGrainContextProvider"/> for each new activation, and each activation's
/// <see cref="IGrainContext.Deactivated"/> completes when its deactivation is done (the activation is gone). The log counts
/// live activations per grain type and, for tracked key prefixes, stamps the first time the grain of key
/// <c>{prefix}{i}</c> finished deactivating into slot i of a preallocated array (so tracking 100,000 keys allocates
/// nothing while the memory figures are taken). Client and silo share the process, so statics are enough.
/// </summary>
public static class DeactivationLog
{
    private static readonly ConcurrentDictionary<GrainType, StrongBox> Live = new();
    private static readonly Lock TracksLock = new();
    private static volatile Track[] _tracks = [];

    /// <summary>Live activations of <paramref name="type"/> seen by the hook.</summary>
    public static long LiveCount(GrainType type) => Live.TryGetValue(type, out var box) ? Interlocked.Read(ref box.Value) : 0;

    /// <summary>Starts stamping deactivations of keys <c>{prefix}0</c> … <c>{prefix}{count-1}</c>; returns the stamps (<see cref="Stopwatch"/> timestamps, 0 = none yet).</summary>
    public static long[] TrackKeys(string prefix, int count)
    {
        var track = new Track(prefix, new long[count]);
        lock (TracksLock)
        {
            _tracks = [.. _tracks, track];
        }

        return track.Stamps;
    }

    internal static void Activated(IGrainContext context)
    {
        var box = Live.GetOrAdd(context.GrainId.Type, static _ => new StrongBox());
        Interlocked.Increment(ref box.Value);
        context.Deactivated.ContinueWith(static (_, s) => Deactivated((IGrainContext)s!), context, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static void Deactivated(IGrainContext context)
    {
        var stamp = Stopwatch.GetTimestamp();
        if (Live.TryGetValue(context.GrainId.Type, out var box))
        {
            Interlocked.Decrement(ref box.Value);
        }

        var tracks = _tracks;
        if (tracks.Length == 0)
        {
            return;
        }

        var key = context.GrainId.Key.ToString();
        foreach (var track in tracks)
        {
            if (key.StartsWith(track.Prefix, StringComparison.Ordinal)
                && int.TryParse(key.AsSpan(track.Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var i)
                && (uint)i < (uint)track.Stamps.Length)
            {
                Interlocked.CompareExchange(ref track.Stamps[i], stamp, 0);
                return;
            }
        }
    }

    private sealed record Track(string Prefix, long[] Stamps);

    private sealed class StrongBox
    {
        public long Value;
    }
}

/// <summary>Registers <see cref="DeactivationLog"/> for every grain type of the silo.</summary>
internal sealed class DeactivationHook : IConfigureGrainContextProvider, IConfigureGrainContext
{
    public bool TryGetConfigurator(GrainType grainType, GrainProperties properties, out IConfigureGrainContext configurator)
    {
        configurator = this;
        return true;
    }

    public void Configure(IGrainContext context) => DeactivationLog.Activated(context);
}

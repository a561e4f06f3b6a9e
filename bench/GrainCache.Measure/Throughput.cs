using CacheProvider.Bench.Reporting;
using System.Diagnostics;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.GrainCache.Measure;

/// <summary>A cache under test, called through <see cref="IDistributedCache"/>.</summary>
internal sealed record CacheSide(string Name, IDistributedCache? Cache, string? Error = null);

/// <summary>
/// Get and Set of 1 KiB values, 64 calls in flight over 1,000 keys (entries live 10 min), through the Orleans client:
/// ours (the grain cache) vs the direct NATS cache and vs the ModCaches-style grains on Redis storage. Each repetition runs
/// the three sides one after another, rotating who goes first; the line shows each side's median ops/s.
/// </summary>
internal static class Throughput
{
    public const int InFlight = 64;
    private const int Keys = 1000;
    private static readonly DistributedCacheEntryOptions Lifetime = new() { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };

    public static async Task MeasureAsync(CacheSide ours, CacheSide direct, CacheSide peer, double seconds, int reps)
    {
        var sides = new[] { ours, direct, peer };
        var value = new byte[1024];
        Random.Shared.NextBytes(value);
        var keys = Enumerable.Range(0, Keys).Select(i => "tp-" + i).ToArray();
        var errors = sides.Select(s => s.Error ?? (s.Cache is null ? "not started" : null)).ToArray();

        // The keys exist (and, for the grain caches, their grains are active) before anything is timed.
        for (var s = 0; s < sides.Length; s++)
        {
            if (errors[s] is null)
            {
                errors[s] = await TryAsync(() => RunAsync(sides[s].Cache!, "set", keys, value, TimeSpan.FromSeconds(Math.Max(1, seconds / 2)), fillOnce: true));
            }
        }

        foreach (var op in new[] { "get", "set" })
        {
            var opErrors = (string?[])errors.Clone();
            var results = sides.Select(_ => new List<double>()).ToArray();
            var misses = new long[sides.Length];
            for (var rep = -1; rep < reps; rep++)
            {
                for (var j = 0; j < sides.Length; j++)
                {
                    var s = (j + Math.Max(rep, 0)) % sides.Length;
                    if (opErrors[s] is not null)
                    {
                        continue;
                    }

                    try
                    {
                        // Repetition -1 is the warm-up of every side (half as long, not counted).
                        var duration = TimeSpan.FromSeconds(rep < 0 ? Math.Max(0.5, seconds / 2) : seconds);
                        var (opsPerSecond, missed) = await RunAsync(sides[s].Cache!, op, keys, value, duration, fillOnce: false);
                        if (rep >= 0)
                        {
                            results[s].Add(opsPerSecond);
                            misses[s] += missed;
                        }
                    }
                    catch (Exception ex)
                    {
                        opErrors[s] = Report.Describe(ex);
                    }
                }
            }

            Outcome Of(int s) => opErrors[s] is { } e ? Outcome.Failed(e) : Outcome.Of(Report.Median(results[s]));
            string Misses(int s) => misses[s] > 0 ? $" {sides[s].Name}_misses={misses[s]}" : string.Empty;
            var name = $"graincache_{op}_1KiB_{InFlight}_inflight_ops_per_s";
            Report.Print(name + "_vs_nats_cache", Of(0), Of(1), "F0", $"(peer: AddNatsDistributedCache, direct KV; median of {reps}){Misses(0)}{Misses(1)}");
            Report.Print(name + "_vs_modcaches_redis", Of(0), Of(2), "F0", $"(peer: ModCaches-style grains on Orleans' Redis storage; median of {reps}){Misses(0)}{Misses(2)}");
        }
    }

    private static async Task<string?> TryAsync(Func<Task<(double, long)>> run)
    {
        try
        {
            await run();
            return null;
        }
        catch (Exception ex)
        {
            return Report.Describe(ex);
        }
    }

    /// <summary>
    /// <see cref="InFlight"/> loops, each walking the keys from its own offset, until <paramref name="duration"/> is over
    /// (or, with <paramref name="fillOnce"/>, until every key was set once). Returns ops/s and Get misses (must be 0).
    /// </summary>
    private static async Task<(double OpsPerSecond, long Misses)> RunAsync(IDistributedCache cache, string op, string[] keys, byte[] value, TimeSpan duration, bool fillOnce)
    {
        long count = 0, misses = 0;
        var next = -1;
        using var cts = new CancellationTokenSource(duration);
        var start = Stopwatch.GetTimestamp();
        async Task Loop(int worker)
        {
            var i = worker;
            while (fillOnce ? (i = Interlocked.Increment(ref next)) < keys.Length : !cts.IsCancellationRequested)
            {
                var key = keys[i % keys.Length];
                if (op == "get")
                {
                    var got = await cache.GetAsync(key);
                    if (got is null || got.Length != value.Length)
                    {
                        Interlocked.Increment(ref misses);
                    }
                }
                else
                {
                    await cache.SetAsync(key, value, Lifetime);
                }

                Interlocked.Increment(ref count);
                if (!fillOnce)
                {
                    i += InFlight;
                }
            }
        }

        var loops = new Task[InFlight];
        for (var w = 0; w < loops.Length; w++)
        {
            var worker = w;
            loops[w] = Task.Run(() => Loop(worker));
        }

        await Task.WhenAll(loops);
        return (count / Stopwatch.GetElapsedTime(start).TotalSeconds, misses);
    }
}

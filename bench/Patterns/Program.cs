using System.Diagnostics;
using System.Globalization;
using CacheProvider.Leases;
using CacheProvider.Testing;
using NATS.Client.Core;

namespace CacheProvider.Bench.Patterns;

/// <summary>
/// Lock measurements on one local nats-server (started here): acquire+release cycles/s and acquire latency
/// p50/p99 with 1, 8 and 64 contenders on one lock (each contender with its own connection, as separate processes
/// would be), then takeover latency after a holder dies (from its lease deadline on the server to the new holder).
/// <c>dotnet run --project bench/Patterns -c Release [-- --seconds N --trials N]</c>; one result line per number.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var seconds = 5.0;
        var trials = 8;
        string[]? only = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (args[i] == "--seconds")
            {
                seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
            else if (args[i] == "--trials")
            {
                trials = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
            else if (args[i] == "--only")
            {
                only = args[i + 1].Split(',');
            }
        }

        bool Runs(string section) => only is null || only.Contains(section);
        await using var server = await NatsServer.StartAsync();
        if (Runs("contention"))
        {
            foreach (var contenders in new[] { 1, 8, 64 })
            {
                await GuardAsync($"lock_{contenders}_contenders", () => ContentionAsync(server.Url, contenders, TimeSpan.FromSeconds(seconds))).ConfigureAwait(false);
            }
        }

        if (Runs("local"))
        {
            await GuardAsync("lock_64_waiters_one_manager", () => LocalWaitersAsync(server.Url, 64, TimeSpan.FromSeconds(seconds))).ConfigureAwait(false);
        }

        if (Runs("takeover"))
        {
            await GuardAsync("lock_takeover_after_holder_death", () => TakeoverAsync(server.Url, trials)).ConfigureAwait(false);
        }

        if (Runs("presence"))
        {
            await GuardAsync("presence_get_online_1000_members_ms", () => PresenceBench.GetOnlineAsync(server.Url, 1000, 20)).ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>One section: an exception becomes a <c>name: error=…</c> line (details on stderr) and the next section runs.</summary>
    private static async Task GuardAsync(string name, Func<Task> section)
    {
        try
        {
            await section().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"{name} failed: {ex}").ConfigureAwait(false);
            Console.WriteLine($"{name}: error={ex.GetType().Name}: {ex.Message.Split('\n', 2)[0].Trim()}");
        }
    }

    private static async Task ContentionAsync(string url, int contenders, TimeSpan duration)
    {
        var connections = Enumerable.Range(0, contenders).Select(i => new NatsConnection(NatsOpts.Default with { Url = url, Name = $"c{i}" })).ToList();
        var managers = connections.Select((c, i) => new LeaseManager(c, new LeaseOptions { Owner = $"c{i}" })).ToList();
        var name = $"bench-{contenders}";
        try
        {
            foreach (var c in connections)
            {
                await c.ConnectAsync().ConfigureAwait(false);
            }

            // Warm-up (JIT, bucket creation, consumers), then the measured run.
            await RunAsync(managers, name, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            var (cycles, latencies, elapsed) = await RunAsync(managers, name, duration).ConfigureAwait(false);
            latencies.Sort();
            Console.WriteLine(Invariant($"lock_{contenders}_contenders_acquire_release_cycles_per_s: {cycles / elapsed.TotalSeconds:F0}"));
            Console.WriteLine(Invariant($"lock_{contenders}_contenders_acquire_latency_p50_ms: {Percentile(latencies, 50):F2}"));
            Console.WriteLine(Invariant($"lock_{contenders}_contenders_acquire_latency_p99_ms: {Percentile(latencies, 99):F2}"));
        }
        finally
        {
            foreach (var m in managers)
            {
                await m.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var c in connections)
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waiters in one process: one connection, one manager, all on the same lock.</summary>
    private static async Task LocalWaitersAsync(string url, int waiters, TimeSpan duration)
    {
        await using var connection = new NatsConnection(NatsOpts.Default with { Url = url, Name = "local" });
        await connection.ConnectAsync().ConfigureAwait(false);
        await using var manager = new LeaseManager(connection, new LeaseOptions { Owner = "local" });
        var managers = Enumerable.Repeat(manager, waiters).ToList();
        var name = $"bench-local-{waiters}";
        await RunAsync(managers, name, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        var (cycles, latencies, elapsed) = await RunAsync(managers, name, duration).ConfigureAwait(false);
        latencies.Sort();
        Console.WriteLine(Invariant($"lock_{waiters}_waiters_one_manager_acquire_release_cycles_per_s: {cycles / elapsed.TotalSeconds:F0}"));
        Console.WriteLine(Invariant($"lock_{waiters}_waiters_one_manager_acquire_latency_p50_ms: {Percentile(latencies, 50):F2}"));
        Console.WriteLine(Invariant($"lock_{waiters}_waiters_one_manager_acquire_latency_p99_ms: {Percentile(latencies, 99):F2}"));
    }

    private static async Task<(long Cycles, List<double> Latencies, TimeSpan Elapsed)> RunAsync(List<LeaseManager> managers, string name, TimeSpan duration)
    {
        var latencies = new List<double>();
        long cycles = 0;
        var clock = Stopwatch.StartNew();
        async Task Worker(LeaseManager manager)
        {
            var mine = new List<double>();
            while (clock.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                var lease = await manager.AcquireAsync(name, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                await lease.ReleaseAsync().ConfigureAwait(false);
                Interlocked.Increment(ref cycles);
            }

            lock (latencies)
            {
                latencies.AddRange(mine);
            }
        }

        await Task.WhenAll(managers.Select(Worker)).ConfigureAwait(false);
        return (cycles, latencies, clock.Elapsed);
    }

    private static async Task TakeoverAsync(string url, int trials)
    {
        var ttl = TimeSpan.FromSeconds(2);
        var samples = new List<double>();
        await using var waiterConnection = new NatsConnection(NatsOpts.Default with { Url = url, Name = "waiter" });
        await using var waiter = new LeaseManager(waiterConnection, new LeaseOptions { Owner = "waiter" });
        for (var t = 0; t < trials; t++)
        {
            var name = $"takeover-{t}";
            var holderConnection = new NatsConnection(NatsOpts.Default with { Url = url, Name = "holder" });
            var holder = new LeaseManager(holderConnection, new LeaseOptions { Owner = "holder" });
            _ = await holder.AcquireAsync(name, TimeSpan.FromSeconds(5), ttl).ConfigureAwait(false);
            var waiting = waiter.AcquireAsync(name, TimeSpan.FromSeconds(30), ttl);

            // Let a renewal or two happen, then the holder dies without releasing.
            await Task.Delay(TimeSpan.FromMilliseconds(700 + (t * 100 % 700))).ConfigureAwait(false);
            await holderConnection.DisposeAsync().ConfigureAwait(false);
            var deadline = (await waiter.GetHolderAsync(name).ConfigureAwait(false))?.ExpiresAt ?? throw new InvalidOperationException("holder vanished");
            var lease = await waiting.ConfigureAwait(false);
            samples.Add((DateTimeOffset.UtcNow - deadline).TotalMilliseconds);
            await lease.ReleaseAsync().ConfigureAwait(false);
            await holder.DisposeAsync().ConfigureAwait(false);
        }

        Console.Error.WriteLine("takeover samples (ms after deadline): " + string.Join(", ", samples.Select(s => s.ToString("F0", CultureInfo.InvariantCulture))));
        samples.Sort();
        Console.WriteLine(Invariant($"lock_takeover_after_holder_death_p50_ms: {Percentile(samples, 50):F0}"));
        Console.WriteLine(Invariant($"lock_takeover_after_holder_death_max_ms: {samples[^1]:F0}"));
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

using CacheProvider.Bench.Reporting;
using System.Diagnostics;
using CacheProvider.Grains;
using CacheProvider.Grains.Measure;
using CacheProvider.KeyValue;
using CacheProvider.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using StackExchange.Redis;

// Issue #13 "Measure": our NATS grain providers vs Orleans' own, in ONE real silo (localhost clustering), one run.
//   ./build.sh bench grains [--seconds N]   or   dotnet run -c Release --project bench/Grains.Measure [-- --seconds N]
//   (N = seconds per provider per throughput figure, default 5; the whole run takes about a minute at 5)
// Every line is `name: ours=… peer=… ratio=…` with ratio = ours / peer: above 1 ours does more ops/s; for times and
// rows touched, below 1 ours is cheaper. A measurement that fails prints `name: error=…` and the run goes on.
// Peers: Orleans' Redis grain storage / reminder table (Microsoft.Orleans.*.Redis 10.4.2, on a local Redis 8 without
// persistence) and Orleans' memory grain storage (the ceiling). Our state bucket is JetStream memory storage, so neither
// side writes to disk; both storages serialise with the same System.Text.Json serializer.
var seconds = 5;
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--seconds" && int.TryParse(args[i + 1], out var s) && s > 0)
    {
        seconds = s;
    }
}

var serviceId = "measure-" + Guid.NewGuid().ToString("N")[..8];
Console.WriteLine($"# Grains.Measure: one silo, {Bench.Concurrency} concurrent grains, {seconds} s per provider per throughput figure (3 interleaved rounds), ratio = ours/peer");

NatsServer? nats = null;
RedisServer? redis = null;
NatsConnection? connection = null;
IHost? host = null;
try
{
    nats = await NatsServer.StartAsync();
    connection = await nats.ConnectAsync();
    try
    {
        redis = await RedisServer.StartAsync();
    }
    catch (Exception ex)
    {
        Console.WriteLine($"redis_server: error={Report.Describe(ex)}");
    }

    try
    {
        host = await Bench.StartSiloAsync(connection, redis, serviceId);
    }
    catch (Exception ex)
    {
        Console.WriteLine($"silo: error={Report.Describe(ex)}");
    }

    var grains = host?.Services.GetRequiredService<IGrainFactory>();
    foreach (var op in new[] { "write", "read" })
    {
        var results = await Bench.CompareAsync(grains, op, seconds);
        Report.Print($"grain_state_{op}_ops_per_s_{Bench.Concurrency}_grains_vs_redis", results[0], results[1], "F0");
        Report.Print($"grain_state_{op}_ops_per_s_{Bench.Concurrency}_grains_vs_memory_ceiling", results[0], results[2], "F0");
    }

    await Reminders.MeasureAsync(connection, redis, serviceId);

    try
    {
        await Expiry.MeasureAsync(grains, 500, 0);
        await Expiry.MeasureAsync(grains, 10_000, 1_000_000);
    }
    catch (Exception ex)
    {
        Console.WriteLine($"deactivation_after_ttl_deadline: error={Report.Describe(ex)}");
    }

    try
    {
        await ActivationMemory.MeasureAsync(grains);
    }
    catch (Exception ex)
    {
        Console.WriteLine($"silo_memory_per_registered_activation: error={Report.Describe(ex)}");
    }
}
catch (Exception ex)
{
    Console.WriteLine($"setup: error={Report.Describe(ex)}");
}
finally
{
    await Hosts.StopAsync(host, "silo");

    if (connection is not null)
    {
        await connection.DisposeAsync();
    }

    if (redis is not null)
    {
        await redis.DisposeAsync();
    }

    if (nats is not null)
    {
        await nats.DisposeAsync();
    }
}

namespace CacheProvider.Grains.Measure
{
    internal static class Bench
    {
        public const int Concurrency = 64;
        public const string NatsStorage = "nats";
        public const string RedisStorage = "redis";
        public const string MemoryStorage = "memory";
        public const string StateBucket = "measure-state";
        public const string ExpiringState = "expiring";
        public const string ProbeState = "probe";
        public const string UnwatchedProbeState = "probe-unwatched";
        public static readonly TimeSpan ExpiringTtl = TimeSpan.FromSeconds(2);

        public static async Task<IHost> StartSiloAsync(INatsConnection connection, RedisServer? redis, string serviceId)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            // Silo warnings go to stderr: stdout holds only the result lines.
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddSingleton(connection);
            builder.UseOrleans(silo =>
            {
                silo.UseLocalhostClustering(NatsServer.FreePort(), NatsServer.FreePort(), serviceId: serviceId, clusterId: "measure");
                silo.AddNatsGrainStorage(NatsStorage, o =>
                {
                    o.Bucket = StateBucket;
                    o.Storage = KvStorage.Memory;
                    o.StateTtls[ExpiringState] = ExpiringTtl;
                    o.StateTtls[ProbeState] = TimeSpan.FromHours(1);
                    o.StateTtls[UnwatchedProbeState] = TimeSpan.FromHours(1);
                    o.DeactivateOnStateChangeByState[UnwatchedProbeState] = false;
                });
                silo.AddMemoryGrainStorage(MemoryStorage);
                if (redis is not null)
                {
                    var configuration = redis.Configuration;
                    silo.AddRedisGrainStorage(RedisStorage, o =>
                    {
                        o.ConfigurationOptions = ConfigurationOptions.Parse(configuration);
                        o.GrainStorageSerializer = new NatsJsonGrainStorageSerializer();
                    });
                }
            });
            var host = builder.Build();
            using var start = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await host.StartAsync(start.Token);
            return host;
        }

        /// <summary>
        /// Ops/s of ours, Redis and memory for <paramref name="op"/>. The time is split into <see cref="Rounds"/> rounds,
        /// each running every provider in turn (rotating who goes first), so background load on a shared machine falls on
        /// all three alike. A provider that fails is reported as failed and left out of the later rounds.
        /// </summary>
        public static async Task<(double? Value, string? Error)[]> CompareAsync(IGrainFactory? factory, string op, int seconds)
        {
            var providers = new Func<long, IStateGrain>[]
            {
                k => factory!.GetGrain<INatsStateGrain>(k),
                k => factory!.GetGrain<IRedisStateGrain>(k),
                k => factory!.GetGrain<IMemoryStateGrain>(k),
            };
            var counts = new long[providers.Length];
            var times = new double[providers.Length];
            var errors = new string?[providers.Length];
            var slice = TimeSpan.FromSeconds(seconds) / Rounds;
            for (var round = 0; round < Rounds; round++)
            {
                for (var j = 0; j < providers.Length; j++)
                {
                    var p = (j + round) % providers.Length;
                    if (errors[p] is not null)
                    {
                        continue;
                    }

                    try
                    {
                        var (count, elapsed) = await ThroughputAsync(factory, providers[p], op, slice);
                        counts[p] += count;
                        times[p] += elapsed.TotalSeconds;
                    }
                    catch (Exception ex)
                    {
                        errors[p] = Report.Describe(ex);
                    }
                }
            }

            return [.. Enumerable.Range(0, providers.Length).Select(p => errors[p] is { } e ? ((double?)null, e) : (counts[p] / times[p], (string?)null))];
        }

        private const int Rounds = 3;

        /// <summary>Calls of <see cref="Concurrency"/> grains (one caller each) calling Write or Read in a loop for <paramref name="duration"/>.</summary>
        private static async Task<(long Count, TimeSpan Elapsed)> ThroughputAsync(IGrainFactory? factory, Func<long, IStateGrain> grain, string op, TimeSpan duration)
        {
            if (factory is null)
            {
                throw new InvalidOperationException("no silo");
            }

            var refs = Enumerable.Range(0, Concurrency).Select(i => grain(i)).ToArray();

            // Activation and a first write (the record exists) outside the timed window.
            await Task.WhenAll(refs.Select(g => g.Write()));
            long count = 0;
            using var cts = new CancellationTokenSource(duration);
            var sw = Stopwatch.StartNew();
            var workers = refs.Select(g => Task.Run(async () =>
            {
                while (!cts.IsCancellationRequested)
                {
                    if (op == "write")
                    {
                        await g.Write();
                    }
                    else
                    {
                        await g.Read();
                    }

                    Interlocked.Increment(ref count);
                }
            })).ToArray();
            await Task.WhenAll(workers);
            return (count, sw.Elapsed);
        }

        public static async Task<(double? Value, string? Error)> TryAsync(Func<Task<double>> measure)
        {
            try
            {
                return (await measure(), null);
            }
            catch (Exception ex)
            {
                return (null, Report.Describe(ex));
            }
        }

    }
}

using System.Diagnostics;
using CacheProvider.Bench.Reporting;
using CacheProvider.Connection;
using CacheProvider.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.GrainDirectory;
using Orleans.Hosting;
using Orleans.Runtime;
using StackExchange.Redis;

namespace CacheProvider.Clustering.Measure;

/// <summary>
/// Grain directory Register and Lookup, <see cref="InFlight"/> operations in flight, called directly on the
/// IGrainDirectory implementations (ours: AddNatsGrainDirectory; peer: Orleans' AddRedisGrainDirectory), both
/// registered in one in-process silo so each is built and initialised the way Orleans does it.
/// </summary>
internal static class DirectoryThroughput
{
    public const int InFlight = 64;
    private const string Ours = "nats";
    private const string Peer = "redis";

    public static async Task<IHost> StartSiloAsync(string natsUrl, string? redis)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddNatsConnection(o => o.Url = natsUrl);
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(NatsServer.FreePort(), NatsServer.FreePort(), serviceId: "directory-measure", clusterId: "directory-measure");
            silo.AddNatsGrainDirectory(Ours);
            if (redis is not null)
            {
                silo.AddRedisGrainDirectory(Peer, o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
            }
        });
        var host = builder.Build();
        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(start.Token);
        return host;
    }

    /// <summary>Register and Lookup ops/s for ours and the peer, <paramref name="reps"/> rounds in rotating order.</summary>
    public static async Task<(Samples Register, Samples Lookup)[]> MeasureAsync(IHost? host, TimeSpan slice, int reps)
    {
        var results = new[] { (Register: new Samples(), Lookup: new Samples()), (Register: new Samples(), Lookup: new Samples()) };
        var names = new[] { Ours, Peer };

        // Warm-up (JIT, connection pools, the first writes to a new bucket or key space), not counted.
        foreach (var name in names)
        {
            try
            {
                if (host?.Services.GetKeyedService<IGrainDirectory>(name) is { } warm)
                {
                    var (ids, _) = await RegisterAsync(warm, host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress, name + "-warmup", TimeSpan.FromSeconds(1));
                    await LookupAsync(warm, ids, TimeSpan.FromSeconds(1));
                }
            }
            catch (Exception ex)
            {
                Console.Error.WriteLine($"# {name} directory warm-up: {Report.Describe(ex)}");
            }
        }

        for (var round = 0; round < reps; round++)
        {
            for (var j = 0; j < names.Length; j++)
            {
                var p = (j + round) % names.Length;
                try
                {
                    var directory = host?.Services.GetKeyedService<IGrainDirectory>(names[p]) ?? throw new InvalidOperationException($"no '{names[p]}' grain directory");
                    var silo = host!.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
                    var (registered, registerRate) = await RegisterAsync(directory, silo, $"{names[p]}{round}", slice);
                    results[p].Register.Add(registerRate);
                    results[p].Lookup.Add(await LookupAsync(directory, registered, slice));
                }
                catch (Exception ex)
                {
                    results[p].Register.Fail(Report.Describe(ex));
                    results[p].Lookup.Fail(Report.Describe(ex));
                }
            }
        }

        return results;
    }

    private static async Task<(List<GrainId> Registered, double Rate)> RegisterAsync(IGrainDirectory directory, SiloAddress silo, string prefix, TimeSpan duration)
    {
        var registered = new List<GrainId>[InFlight];
        using var stop = new CancellationTokenSource(duration);
        var clock = Stopwatch.StartNew();
        var workers = new Task[InFlight];
        for (var w = 0; w < InFlight; w++)
        {
            var mine = registered[w] = [];
            var worker = w;
            workers[w] = Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var id = GrainId.Create("measure", $"{prefix}-{worker}-{i}");
                    var address = new GrainAddress { GrainId = id, ActivationId = ActivationId.NewId(), SiloAddress = silo, MembershipVersion = new MembershipVersion(1) };
                    var winner = await directory.Register(address, null);
                    if (winner is null || !winner.Equals(address))
                    {
                        throw new InvalidOperationException($"a fresh grain's Register returned {winner?.ToString() ?? "null"}");
                    }

                    mine.Add(id);
                }
            });
        }

        await Task.WhenAll(workers);
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = registered.SelectMany(r => r).ToList();
        return (all, all.Count / elapsed);
    }

    private static async Task<double> LookupAsync(IGrainDirectory directory, List<GrainId> registered, TimeSpan duration)
    {
        long count = 0;
        using var stop = new CancellationTokenSource(duration);
        var clock = Stopwatch.StartNew();
        var workers = new Task[InFlight];
        for (var w = 0; w < InFlight; w++)
        {
            var worker = w;
            workers[w] = Task.Run(async () =>
            {
                for (var i = worker; !stop.IsCancellationRequested; i += InFlight)
                {
                    var found = await directory.Lookup(registered[i % registered.Count]);
                    if (found is null)
                    {
                        throw new InvalidOperationException("a registered grain was not found");
                    }

                    Interlocked.Increment(ref count);
                }
            });
        }

        await Task.WhenAll(workers);
        return count / clock.Elapsed.TotalSeconds;
    }
}

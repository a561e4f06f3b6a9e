using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using CacheProvider.Samples.Expiry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans;

namespace CacheProvider.Samples.Cluster;

/// <summary>
/// The front end: starts a local nats-server (unless <c>--url</c>), three silo processes of this executable and an
/// Orleans client, tells the <see cref="ClusterStory"/>, then (without <c>--smoke</c>) takes commands until Ctrl+C.
/// Exit codes: 0 ok, 1 failed, 2 bad arguments, 130 interrupted.
/// </summary>
internal static class DemoMode
{
    private const int SiloCount = 3;

    public const string Usage =
        "usage: CacheProvider.Samples.Cluster [--smoke] [--url nats://host:port] [--probe fast|default] [--clustering nats|redis --redis HOST:PORT]\n" +
        "       CacheProvider.Samples.Cluster silo …   (one silo; see 'silo --help')";

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        string? url = Environment.GetEnvironmentVariable("NATS_URL") is { Length: > 0 } env ? env : null;
        var smoke = false;
        var probe = MembershipProfile.Fast;
        var clustering = ClusteringProvider.Nats;
        string? redis = null;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--smoke": smoke = true; break;
                case "--url" when i + 1 < args.Count: url = args[++i]; break;
                case "--probe" when i + 1 < args.Count && MembershipProfile.IsKnown(args[i + 1]): probe = args[++i]; break;
                case "--clustering" when i + 1 < args.Count && args[i + 1] is "nats" or "redis":
                    clustering = args[++i] == "redis" ? ClusteringProvider.Redis : ClusteringProvider.Nats;
                    break;
                case "--redis" when i + 1 < args.Count: redis = args[++i]; break;
                default:
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        if (clustering == ClusteringProvider.Redis && redis is null)
        {
            Console.Error.WriteLine("--clustering redis needs --redis HOST:PORT\n" + Usage);
            return 2;
        }

        using var cts = new CancellationTokenSource();
        LocalNatsServer? server = null;
        var fleet = new SiloFleet();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (cts.IsCancellationRequested)
            {
                // Second Ctrl+C: no more politeness. Only our own children, by PID.
                foreach (var s in fleet.Running)
                {
                    s.Kill();
                }

                server?.StopNow();
                Environment.Exit(130);
            }

            cts.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        var patience = probe == MembershipProfile.Fast ? TimeSpan.FromSeconds(60) : TimeSpan.FromSeconds(120);
        if (smoke)
        {
            cts.CancelAfter(patience * 3); // a hung step fails the smoke instead of hanging CI
        }

        IHost? client = null;
        try
        {
            if (url is null)
            {
                var executable = await LocalNatsServer.LocateExecutableAsync(cts.Token);
                server = await LocalNatsServer.StartAsync(executable, cts.Token);
                Console.WriteLine($"started {executable} (pid {server.Pid}) on {server.Url}; it stops when the demo does");
            }

            var natsUrl = url ?? server!.Url;
            Console.WriteLine($"clustering: {(clustering == ClusteringProvider.Nats ? "NATS (membership, gateways and grain directory in KV)" : "Orleans' Redis providers at " + redis)}; " +
                $"grain storage (TTL {SampleNames.CounterTtl.TotalMinutes:0} min) and reminders in NATS KV; {MembershipProfile.Describe(probe)}");
            for (var i = 1; i <= SiloCount; i++)
            {
                var silo = fleet.Start(new SiloSettings(natsUrl, FreePort(), FreePort(), $"s{i}", clustering, redis, probe, SampleNames.DefaultClusterId, ExitWithStdin: true));
                Console.WriteLine($"started silo {silo.Name} (pid {silo.Pid}), silo port {silo.Settings.SiloPort}, gateway port {silo.Settings.GatewayPort}");
            }

            foreach (var silo in fleet.Running)
            {
                await silo.WaitReadyAsync(patience, cts.Token);
                Console.WriteLine($"silo {silo.Name} Active as {silo.Address} ({silo.JoinTime?.TotalSeconds:0.0} s from start to Active)");
            }

            client = await ClientHost.StartAsync(natsUrl, clustering, redis, SampleNames.DefaultClusterId, cts.Token);
            var grains = client.Services.GetRequiredService<IClusterClient>();
            Console.WriteLine(smoke ? "smoke test of the cluster story:" : "the cluster story:");
            var ok = await new ClusterStory(grains, fleet, patience).RunAsync(cts.Token);
            Console.WriteLine((smoke ? "smoke: " : "story: ") + (ok ? "the whole story behaved" : "FAILED"));
            if (smoke)
            {
                return ok ? 0 : 1;
            }

            await DemoConsole.RunAsync(grains, fleet, cts.Token);
            return 0;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            if (smoke)
            {
                Console.Error.WriteLine($"CLUSTER DEMO FAILED: the smoke run did not finish within {(patience * 3).TotalSeconds:0} s");
                PrintSiloTails(fleet);
                return 1;
            }

            return 130;
        }
        catch (Exception) when (!smoke && cts.IsCancellationRequested)
        {
            // Ctrl+C while a step was under way (a silo starting, the story running): a stop, not a failure.
            return 130;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"CLUSTER DEMO FAILED: {ex.GetType().Name}: {ex.Message}");
            PrintSiloTails(fleet);
            return 1;
        }
        finally
        {
            if (client is not null)
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await client.StopAsync(stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or OrleansException)
                {
                    Console.Error.WriteLine($"warning: client stop: {ex.Message}");
                }

                client.Dispose();
            }

            await fleet.DisposeAsync();
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }

    private static void PrintSiloTails(SiloFleet fleet)
    {
        foreach (var silo in fleet.Running)
        {
            Console.Error.WriteLine($"--- silo {silo.Name} (pid {silo.Pid}), last lines ---\n{silo.Tail(30)}");
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

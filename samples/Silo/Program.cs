using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using CacheProvider.Connection;
using CacheProvider.Samples.Expiry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;

namespace CacheProvider.Samples.Silo;

/// <summary>
/// An Orleans silo (localhost clustering) with the NATS grain storage (per-state TTL), the NATS reminder table and
/// the state watcher (deactivation on expiry), and an in-process client that tells the cart story once. Without
/// <c>--url</c> (or <c>NATS_URL</c>) it starts its own nats-server and stops it on exit.
/// <c>--smoke</c>: the story once, exit 0 (all behaved) or 1 (what failed is printed). Otherwise the silo stays up
/// for console commands (<c>add CART ITEM</c>, <c>show CART</c>, <c>quit</c>) until Ctrl+C.
/// <c>--ttl N</c>: the cart state's TTL in seconds (default 6, from <c>[StateTtl]</c>).
/// Exit codes: 0 ok, 1 failed, 2 bad arguments, 130 interrupted.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        string? url = Environment.GetEnvironmentVariable("NATS_URL") is { Length: > 0 } env ? env : null;
        var smoke = false;
        TimeSpan? ttl = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--smoke": smoke = true; break;
                case "--url" when i + 1 < args.Length: url = args[++i]; break;
                case "--ttl" when i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var s) && s >= 1: ttl = TimeSpan.FromSeconds(s); i++; break;
                default:
                    Console.Error.WriteLine("usage: CacheProvider.Samples.Silo [--smoke] [--url nats://host:port] [--ttl SECONDS]");
                    return 2;
            }
        }

        using var cts = new CancellationTokenSource();
        LocalNatsServer? server = null;
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (cts.IsCancellationRequested)
            {
                server?.StopNow();
                Environment.Exit(130);
            }

            cts.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        if (smoke)
        {
            cts.CancelAfter(TimeSpan.FromSeconds(90)); // a hung step fails the smoke instead of hanging CI
        }

        IHost? host = null;
        try
        {
            if (url is null)
            {
                var executable = await LocalNatsServer.LocateExecutableAsync(cts.Token);
                server = await LocalNatsServer.StartAsync(executable, cts.Token);
                Console.WriteLine($"started {executable} (pid {server.Pid}) on {server.Url}; it stops when the app does");
            }

            host = BuildSilo(url ?? server!.Url, ttl);
            await host.StartAsync(cts.Token);
            var stateTtl = host.Services.GetRequiredKeyedService<Grains.NatsGrainStorage>(SampleNames.Storage).GetStateTtl<CartState>(SampleNames.CartState)
                ?? throw new DemoFailedException("the cart state has no TTL");
            Console.WriteLine($"silo up (service '{SampleNames.ServiceId}', localhost clustering); grain state in KV bucket '{SampleNames.StateBucket}', reminders in '{SampleNames.ReminderBucket}'");
            var events = host.Services.GetRequiredService<CartEvents>();
            events.Published += e => Console.WriteLine($"  >>   [{e.At:HH:mm:ss.fff}] cart {e.Cart}: {Describe(e.Kind)} {e.Detail}");

            Console.WriteLine(smoke ? "smoke test of the silo story:" : "the cart story:");
            var ok = await new Story(host.Services, stateTtl).RunAsync(cts.Token);
            Console.WriteLine((smoke ? "smoke: " : "story: ") + (ok ? "the whole story behaved" : "FAILED"));
            if (smoke)
            {
                return ok ? 0 : 1;
            }

            await RunConsoleAsync(host.Services.GetRequiredService<IGrainFactory>(), cts.Token);
            return 0;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            if (smoke)
            {
                Console.Error.WriteLine("SILO DEMO FAILED: the smoke run did not finish within 90 s");
                return 1;
            }

            return 130;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"SILO DEMO FAILED: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
        finally
        {
            if (host is not null)
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                try
                {
                    await host.StopAsync(stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or OrleansException)
                {
                    Console.Error.WriteLine($"warning: silo stop: {ex.Message}");
                }

                host.Dispose();
            }

            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }

    private static IHost BuildSilo(string natsUrl, TimeSpan? ttl)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("CacheProvider.Samples.Silo", LogLevel.Information);
        builder.Services.AddNatsConnection(o => o.Url = natsUrl);
        builder.Services.AddSingleton<CartEvents>();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: FreePort(), serviceId: SampleNames.ServiceId, clusterId: "sample");
            silo.AddNatsGrainStorage(SampleNames.Storage, o =>
            {
                o.Bucket = SampleNames.StateBucket;
                o.RefreshTtlOnRead = true; // reads late in the TTL renew it too: the cart lives while it is used
                o.DeleteStateOnClear = true;
                if (ttl is { } t)
                {
                    o.StateTtls[SampleNames.CartState] = t; // wins over [StateTtl] on CartState
                }
            });
            silo.UseNatsReminderService(o => o.Bucket = SampleNames.ReminderBucket);
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        });
        return builder.Build();
    }

    private static async Task RunConsoleAsync(IGrainFactory grains, CancellationToken cancellationToken)
    {
        Console.WriteLine("commands: add CART ITEM | show CART | quit   (a cart left alone expires and its activation is deactivated; Ctrl+C stops)");
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // Console reads block and ignore cancellation: read on the thread pool so Ctrl+C is not stuck behind one.
                var line = await Task.Run(Console.ReadLine, CancellationToken.None).WaitAsync(cancellationToken);
                if (line is null)
                {
                    // No console input (stdin closed): keep the silo up until Ctrl+C.
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                    return;
                }

                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                switch (parts)
                {
                    case ["quit" or "exit"]:
                        return;
                    case ["add", var cart, ..]:
                        Print(cart, await grains.GetGrain<ICartGrain>(cart).Add(string.Join(' ', parts[2..])));
                        break;
                    case ["show", var cart]:
                        Print(cart, await grains.GetGrain<ICartGrain>(cart).Get());
                        break;
                    case []:
                        break;
                    default:
                        Console.WriteLine("commands: add CART ITEM | show CART | quit");
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static void Print(string cart, CartView view) =>
        Console.WriteLine(view.RecordExists
            ? $"cart {cart}: [{string.Join(", ", view.Items)}] (ETag {view.ETag}, activation {view.ActivationId:N})"
            : $"cart {cart}: no stored cart (activation {view.ActivationId:N})");

    private static string Describe(CartEventKind kind) => kind switch
    {
        CartEventKind.ReminderTick => "reminder tick,",
        CartEventKind.Deactivated => "deactivated,",
        _ => "reminder stopped,",
    };

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Globalization;
using System.Runtime.InteropServices;
using CacheProvider.Connection;
using CacheProvider.Leases;
using CacheProvider.KeyValue;
using CacheProvider.Presence;
using CacheProvider.Samples.Expiry;
using CacheProvider.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace CacheProvider.Samples.Patterns;

/// <summary>
/// Leased locks, presence and one-time tokens on per-key TTL, on a nats-server the demo starts for itself (unless
/// <c>--url</c> names one). Exit codes: 0 everything behaved, 1 something did not, 2 bad arguments, 130 interrupted.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        string? url = null;
        if (args is ["--url", var u] && u.Length > 0)
        {
            url = u;
        }
        else if (args.Length > 0)
        {
            Console.Error.WriteLine("usage: CacheProvider.Samples.Patterns [--url nats://host:port]");
            return 2;
        }

        var say = new Narrator();
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

            Console.Error.WriteLine("interrupted: cleaning up (press Ctrl+C again to stop at once)");
            cts.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            if (url is null)
            {
                var executable = await LocalNatsServer.LocateExecutableAsync(cts.Token).ConfigureAwait(false);
                server = await LocalNatsServer.StartAsync(executable, cts.Token).ConfigureAwait(false);
                say.Say($"started {executable} (pid {server.Pid}) on {server.Url}");
            }

            await RunAsync(url ?? server!.Url, DemoNames.Create(shared: url is not null), say, cts.Token).ConfigureAwait(false);
            say.Heading("all three patterns behaved as expected");
            return 0;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Console.Error.WriteLine("demo interrupted");
            return 130;
        }
        catch (DemoFailedException ex)
        {
            Console.Error.WriteLine($"DEMO FAILED: {ex.Message}");
            return 1;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"DEMO FAILED: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync().ConfigureAwait(false);
                say.Say($"stopped nats-server pid {server.Pid}");
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total {say.Elapsed.TotalSeconds:0.0}s"));
        }
    }

    private static async Task RunAsync(string url, DemoNames names, Narrator say, CancellationToken cancellationToken)
    {
        // The application side, wired the way a service would: one shared connection, three building blocks.
        var services = new ServiceCollection()
            .AddNatsConnection(o => { o.Url = url; o.Name = "patterns-demo"; })
            .AddNatsLeases(o => { o.Bucket = names.Leases; o.Owner = "runner-B"; o.DefaultTtl = TimeSpan.FromSeconds(3); })
            .AddNatsPresence(o => o.Bucket = names.Presence)
            .AddNatsOneTimeTokens(o => o.Bucket = names.Tokens);
        var provider = services.BuildServiceProvider();
        await using var _ = provider.ConfigureAwait(false);

        await new LeaseDemo(url, names, provider.GetRequiredService<ILeaseManager>(), say).RunAsync(cancellationToken).ConfigureAwait(false);
        await new PresenceDemo(url, names, provider.GetRequiredService<PresenceTracker>(), say).RunAsync(cancellationToken).ConfigureAwait(false);
        await new TokenDemo(provider.GetRequiredService<IOneTimeTokens>(), say).RunAsync(cancellationToken).ConfigureAwait(false);

        if (names.Shared)
        {
            var kv = new KvContext(provider.GetNatsConnection());
            foreach (var bucket in new[] { names.Leases, names.Presence, names.Tokens })
            {
                await kv.DeleteBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

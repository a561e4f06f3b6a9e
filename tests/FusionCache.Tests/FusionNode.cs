using CacheProvider.Caching;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Events;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace CacheProvider.FusionCache.Tests;

/// <summary>One app instance: its own ServiceProvider, NATS.Net connection and FusionCache with the NATS backplane.</summary>
internal sealed class FusionNode : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private FusionNode(ServiceProvider services, NatsConnection connection, IFusionCache cache)
    {
        _services = services;
        Connection = connection;
        Cache = cache;
    }

    public NatsConnection Connection { get; }

    public IFusionCache Cache { get; }

    /// <summary>
    /// A node on <paramref name="server"/>. <paramref name="withL2"/>: our NatsDistributedCache (bucket "fusion") is the
    /// shared L2. The cache is built subscribed (WaitForInitialBackplaneSubscribe). L1 entries live 10 minutes, so only the backplane can make a node drop them during a test.
    /// </summary>
    public static async Task<FusionNode> StartAsync(NatsServer server, bool withL2 = false, string? cacheName = null, Action<NatsBackplaneOptions>? backplane = null)
    {
        var connection = await server.ConnectAsync();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<INatsConnection>(connection);
        if (withL2)
        {
            services.AddNatsDistributedCache(o => o.Bucket = "fusion");
        }

        var builder = cacheName is null ? services.AddFusionCache() : services.AddFusionCache(cacheName);
        builder
            .WithOptions(o => o.WaitForInitialBackplaneSubscribe = true)
            .WithDefaultEntryOptions(o => o.Duration = TimeSpan.FromMinutes(10))
            .WithSerializer(new FusionCacheSystemTextJsonSerializer())
            .WithNatsBackplane(backplane);
        if (withL2)
        {
            builder.WithRegisteredDistributedCache();
        }

        var sp = services.BuildServiceProvider();
        var cache = cacheName is null ? sp.GetRequiredService<IFusionCache>() : sp.GetRequiredService<IFusionCacheProvider>().GetCache(cacheName);
        return new FusionNode(sp, connection, cache);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Connection.DisposeAsync();
    }
}

internal static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds; the 20 s limit only stops a hung test.</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("never happened: " + what);
            }

            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/>, waits until <paramref name="cache"/> published its message for <paramref name="key"/>,
    /// then pings: the server has routed that message before anything published after this returns.
    /// </summary>
    public static async Task PublishedAsync(IFusionCache cache, INatsConnection connection, string key, Func<Task> action)
    {
        var published = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnPublished(object? sender, FusionCacheBackplaneMessageEventArgs e)
        {
            if (e.Message.CacheKey == key)
            {
                published.TrySetResult();
            }
        }

        cache.Events.Backplane.MessagePublished += OnPublished;
        try
        {
            await action();
            await published.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await connection.PingAsync();
        }
        finally
        {
            cache.Events.Backplane.MessagePublished -= OnPublished;
        }
    }

    /// <summary>Waits until <paramref name="connection"/> is open again and answers a ping.</summary>
    public static Task OpenAsync(INatsConnection connection) => TrueAsync(async () =>
    {
        if (connection.ConnectionState != NatsConnectionState.Open)
        {
            return false;
        }

        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await connection.PingAsync(cts.Token);
            return true;
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException)
        {
            return false;
        }
    }, "connection open again");
}

using CacheProvider.Connection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using ZiggyCreatures.Caching.Fusion;
using ZFusionCache = ZiggyCreatures.Caching.Fusion.FusionCache;

namespace CacheProvider.FusionCache.Tests;

public sealed class NatsBackplaneRegistrationTests(ITestOutputHelper output)
{
    private static ServiceProvider App(string url, string? prefix)
    {
        var settings = new Dictionary<string, string?> { ["Nats:Url"] = url };
        if (prefix is not null)
        {
            settings["FusionCache:Backplane:SubjectPrefix"] = prefix;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddFusionCache().WithOptions(o => o.WaitForInitialBackplaneSubscribe = true).WithNatsBackplane(configuration.GetSection("FusionCache:Backplane"));
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task Without_an_app_connection_one_is_registered_from_the_Nats_section_and_the_prefix_is_bound()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = App(server.Url, "shop.fc");
        await using var b = App(server.Url, "shop.fc");
        var cacheA = a.GetRequiredService<IFusionCache>();
        var cacheB = b.GetRequiredService<IFusionCache>();

        var backplane = Assert.IsType<NatsBackplane>(((ZFusionCache)cacheA).Backplane);
        Assert.Equal("shop.fc.FusionCache.Backplane:v2", backplane.Subject);
        Assert.Same(a.GetNatsConnection(), a.GetRequiredService<INatsConnection>());

        await cacheB.SetAsync("k", "v", o => o.SkipBackplaneNotifications = true);
        await cacheA.RemoveAsync("k");
        await Eventually.TrueAsync(async () => !(await cacheB.TryGetAsync<string>("k")).HasValue, "B misses k");
    }

    [Fact]
    public async Task Apps_with_different_subject_prefixes_do_not_hear_each_other()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var shop = App(server.Url, "shop");
        await using var blog = App(server.Url, null);
        await using var blog2 = App(server.Url, null);
        var shopCache = shop.GetRequiredService<IFusionCache>();
        var blogCache = blog.GetRequiredService<IFusionCache>();
        var blog2Cache = blog2.GetRequiredService<IFusionCache>();
        Assert.Equal("fusioncache.FusionCache.Backplane:v2", ((NatsBackplane)((ZFusionCache)blogCache).Backplane!).Subject);

        await blogCache.SetAsync("k", "blog", o => o.SkipBackplaneNotifications = true);
        await blogCache.SetAsync("sentinel", "x", o => o.SkipBackplaneNotifications = true);
        await Eventually.PublishedAsync(shopCache, shop.GetNatsConnection(), "k", () => shopCache.RemoveAsync("k").AsTask());
        await blog2Cache.RemoveAsync("sentinel");

        await Eventually.TrueAsync(async () => !(await blogCache.TryGetAsync<string>("sentinel")).HasValue, "blog dropped the sentinel");
        Assert.Equal("blog", await blogCache.GetOrDefaultAsync<string>("k"));
    }

    [Fact]
    public async Task A_connection_key_selects_the_apps_keyed_nats_connection()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var keyedA = await server.ConnectAsync();
        await using var keyedB = await server.ConnectAsync();

        // The default connection CacheProvider registers points at a port nobody listens on: only the keyed one works.
        ServiceProvider App(INatsConnection keyed)
        {
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddKeyedSingleton<INatsConnection>("backplane", keyed);
            services.AddNatsConnection(o => o.Url = "nats://127.0.0.1:1");
            services.AddFusionCache().WithOptions(o => o.WaitForInitialBackplaneSubscribe = true).WithNatsBackplane(o => o.ConnectionKey = "backplane");
            return services.BuildServiceProvider();
        }

        await using var a = App(keyedA);
        await using var b = App(keyedB);
        var cacheA = a.GetRequiredService<IFusionCache>();
        var cacheB = b.GetRequiredService<IFusionCache>();
        Assert.True(((NatsBackplane)((ZFusionCache)cacheB).Backplane!).IsSubscribed);

        await cacheB.SetAsync("k", "v", o => o.SkipBackplaneNotifications = true);
        await cacheA.RemoveAsync("k");
        await Eventually.TrueAsync(async () => !(await cacheB.TryGetAsync<string>("k")).HasValue, "B misses k");
    }

    [Fact]
    public async Task An_invalid_prefix_from_configuration_fails_when_the_cache_is_built()
    {
        await using var app = App("nats://127.0.0.1:1", "bad prefix");
        var ex = Assert.Throws<ArgumentException>(() => app.GetRequiredService<IFusionCache>());
        Assert.Contains("SubjectPrefix 'bad prefix'", ex.Message, StringComparison.Ordinal);
    }
}

using CacheProvider.Caching;
using CacheProvider.Connection;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CacheProvider.Tests.Caching;

public sealed class CacheEventsAndConfigTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Key_events_report_expiry_and_removal_with_the_original_key()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var cache = h.Cache(o => o.KeyPrefix = "events");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var events = new List<CacheKeyEvent>();
        var enumerator = cache.WatchKeyEventsAsync(cts.Token).GetAsyncEnumerator(cts.Token);

        // The watch starts on the first MoveNext and reports only what happens after it is live: remove probes until one
        // is reported.
        var next = enumerator.MoveNextAsync().AsTask();
        for (var probe = 0; ; probe++)
        {
            await cache.SetAsync($"probe{probe}", [1], new DistributedCacheEntryOptions());
            await cache.RemoveAsync($"probe{probe}");
            if (await Task.WhenAny(next, Task.Delay(200, cts.Token)) == next)
            {
                break;
            }
        }

        Assert.True(await next);
        await cache.SetAsync("user:42 session", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(1) });
        await cache.SetAsync("gone", [1], new DistributedCacheEntryOptions());
        await cache.RemoveAsync("gone");
        while (events.Count(e => e.Key is "gone" or "user:42 session") < 2 && await enumerator.MoveNextAsync())
        {
            events.Add(enumerator.Current);
        }

        await enumerator.DisposeAsync();
        Assert.Contains(events, e => e.Key == "gone" && e.Reason == CacheKeyEventReason.Removed);
        Assert.Contains(events, e => e.Key == "user:42 session" && e.Reason == CacheKeyEventReason.Expired);
    }

    [Fact]
    public async Task An_existing_bucket_with_history_or_without_markers_is_reported_not_changed()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var kv = new KvContext(h.Connect());
        await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "hist", History = 5, LimitMarkerTtl = TimeSpan.FromSeconds(1) });
        await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "nomarkers" });

        var ex = await Assert.ThrowsAsync<NatsCacheConfigurationException>(() => h.Cache(o => o.Bucket = "hist").GetAsync("k"));
        Assert.Contains("history", ex.Message, StringComparison.OrdinalIgnoreCase);
        ex = await Assert.ThrowsAsync<NatsCacheConfigurationException>(() => h.Cache(o => o.Bucket = "nomarkers").GetAsync("k"));
        Assert.Contains("markers", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(5, (await kv.GetStatusAsync("hist")).History);
        Assert.Equal(TimeSpan.Zero, (await kv.GetStatusAsync("nomarkers")).LimitMarkerTtl);
    }

    [Fact]
    public async Task A_missing_bucket_is_created_with_safe_defaults()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var cache = h.Cache(o => { o.Bucket = "fresh"; o.LimitMarkerTtl = TimeSpan.FromSeconds(3); });
        await cache.SetAsync("k", [1], new DistributedCacheEntryOptions());
        var status = await new KvContext(h.Connect()).GetStatusAsync("fresh");
        Assert.Equal(1, status.History);
        Assert.Equal(TimeSpan.FromSeconds(3), status.LimitMarkerTtl);
        Assert.Equal(KvStorage.File, status.Storage);
    }

    [Fact]
    public async Task DI_registration_resolves_without_a_server_and_works_once_one_is_there()
    {
        await using var server = await NatsServer.StartAsync(output);
        var services = new ServiceCollection()
            .AddLogging()
            .AddNatsConnection(o => o.Url = server.Url)
            .AddNatsDistributedCache(o => o.Bucket = "di");
        services.AddHealthChecks().AddNatsDistributedCache();
        await using var sp = services.BuildServiceProvider();
        var cache = sp.GetRequiredService<IDistributedCache>();
        Assert.Same(cache, sp.GetRequiredService<IBufferDistributedCache>());
        await cache.SetStringAsync("hello", "world");
        Assert.Equal("world", await cache.GetStringAsync("hello"));
        var health = await sp.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, health.Status);
    }

    [Fact]
    public async Task DI_resolution_never_fails_because_the_server_is_down_and_health_says_unhealthy()
    {
        var services = new ServiceCollection().AddLogging()
            .AddNatsConnection(o => o.Url = $"nats://127.0.0.1:{NatsServer.FreePort()}")
            .AddNatsDistributedCache(_ => { });
        services.AddHealthChecks().AddNatsDistributedCache();
        await using var sp = services.BuildServiceProvider();
        Assert.NotNull(sp.GetRequiredService<IDistributedCache>());
        var health = await sp.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
    }

    [Fact]
    public async Task Keyed_caches_are_separate_and_invalid_options_fail_at_start()
    {
        await using var server = await NatsServer.StartAsync(output);
        var services = new ServiceCollection()
            .AddNatsConnection(o => o.Url = server.Url)
            .AddKeyedNatsDistributedCache("a", o => o.Bucket = "a")
            .AddKeyedNatsDistributedCache("b", o => o.Bucket = "b");
        await using var sp = services.BuildServiceProvider();
        var a = sp.GetRequiredKeyedService<IDistributedCache>("a");
        var b = sp.GetRequiredKeyedService<IDistributedCache>("b");
        await a.SetAsync("k", [1], new DistributedCacheEntryOptions());
        Assert.Null(await b.GetAsync("k"));

        await using var bad = new ServiceCollection().AddNatsDistributedCache(o => o.Bucket = "no.dots").BuildServiceProvider();
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => bad.GetRequiredService<IDistributedCache>());
    }
}

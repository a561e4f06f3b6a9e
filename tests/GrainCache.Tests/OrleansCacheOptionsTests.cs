using CacheProvider.Caching;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;

namespace CacheProvider.Grains.Caching.Tests;

/// <summary>Front-end options: configuration binding, validation, the service id default, and the registrations.</summary>
[Collection(CacheClusterCollection.Name)]
public sealed class OrleansCacheOptionsTests(CacheClusterFixture fixture)
{
    private static IConfiguration Section(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("OrleansCache");

    private ServiceProvider Services(Action<IServiceCollection> add)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IGrainFactory>(fixture.Cluster.Client);
        services.AddSingleton<INatsConnection>(fixture.Cluster.Connection);
        services.Configure<ClusterOptions>(o => o.ServiceId = "from-cluster");
        add(services);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Options_bind_from_configuration_and_the_service_id_defaults_to_Orleans_one()
    {
        using var sp = Services(s => s.AddOrleansNatsDistributedCache(Section(new()
        {
            ["OrleansCache:Bucket"] = "my-cache",
            ["OrleansCache:NearCacheEnabled"] = "true",
            ["OrleansCache:NearCacheMaxEntries"] = "500",
            ["OrleansCache:NearCacheMaxValueBytes"] = "2048",
            ["OrleansCache:LeaseWait"] = "00:00:05",
            ["OrleansCache:ConnectionKey"] = "",
        })));
        var options = sp.GetRequiredService<IOptions<OrleansDistributedCacheOptions>>().Value;
        Assert.Equal(("my-cache", true, 500, 2048, TimeSpan.FromSeconds(5)), (options.Bucket, options.NearCacheEnabled, options.NearCacheMaxEntries, options.NearCacheMaxValueBytes, options.LeaseWait));
        Assert.Equal("from-cluster", options.ServiceId);

        using var explicitId = Services(s => s.AddOrleansNatsDistributedCache(o => o.ServiceId = "storage-id"));
        Assert.Equal("storage-id", explicitId.GetRequiredService<IOptions<OrleansDistributedCacheOptions>>().Value.ServiceId);
    }

    [Theory]
    [InlineData("Bucket", "no spaces")]
    [InlineData("Bucket", "")]
    [InlineData("NearCacheMaxEntries", "0")]
    [InlineData("NearCacheMaxValueBytes", "0")]
    [InlineData("LeaseWait", "00:00:00")]
    public void Invalid_options_fail_validation_at_start_naming_the_setting(string setting, string value)
    {
        using var sp = Services(s => s.AddOrleansNatsDistributedCache(Section(new() { ["OrleansCache:" + setting] = value })));
        var error = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_cache_is_the_apps_distributed_cache_and_key_event_source()
    {
        await using var sp = Services(s => s.AddOrleansNatsDistributedCache(o => o.NearCacheEnabled = true));
        var cache = sp.GetRequiredService<OrleansDistributedCache>();
        Assert.Same(cache, sp.GetRequiredService<IDistributedCache>());
        Assert.Same(cache, sp.GetRequiredService<IBufferDistributedCache>());
        Assert.Same(cache, sp.GetRequiredService<ICacheKeyEventSource>());
    }

    [Fact]
    public void The_near_cache_needs_a_connection_and_a_service_id()
    {
        var near = Options.Create(new OrleansDistributedCacheOptions { NearCacheEnabled = true, ServiceId = "svc" });
        Assert.Throws<ArgumentException>(() => new OrleansDistributedCache(fixture.Cluster.Client, near));
        var noServiceId = Options.Create(new OrleansDistributedCacheOptions { NearCacheEnabled = true });
        Assert.Throws<ArgumentException>(() => new OrleansDistributedCache(fixture.Cluster.Client, noServiceId, connection: fixture.Cluster.Connection));
    }
}

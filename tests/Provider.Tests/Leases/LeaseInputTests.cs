using CacheProvider.Connection;
using CacheProvider.Leases;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NATS.Client.Core;

namespace CacheProvider.Tests.Leases;

public sealed class LeaseInputTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Bad_arguments_throw_typed_exceptions_before_touching_the_server()
    {
        // Nothing listens on this port: validation must come first.
        await using var connection = new NatsConnection(TestNats.Options($"nats://127.0.0.1:{NatsServer.FreePort()}"));
        await using var manager = new LeaseManager(connection, new LeaseOptions());
        await Assert.ThrowsAsync<ArgumentException>(() => manager.TryAcquireAsync(""));
        await Assert.ThrowsAsync<ArgumentNullException>(() => manager.TryAcquireAsync(null!));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => manager.TryAcquireAsync("x", TimeSpan.FromMilliseconds(500)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => manager.TryAcquireAsync("x", TimeSpan.Zero));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => manager.AcquireAsync("x", TimeSpan.FromSeconds(-2)));
        await Assert.ThrowsAsync<ArgumentException>(() => manager.GetHolderAsync(""));
        Assert.Throws<ArgumentException>(() => new LeaseManager(connection, new LeaseOptions { Bucket = "a.b" }));
        Assert.Throws<ArgumentException>(() => new LeaseManager(connection, new LeaseOptions { DefaultTtl = TimeSpan.FromMilliseconds(200) }));
        Assert.Throws<ArgumentException>(() => new LeaseManager(connection, new LeaseOptions { KeyPrefix = "a..b" }));
        Assert.Throws<ArgumentException>(() => new LeaseManager(connection, new LeaseOptions { RenewalFraction = 0.95 }));
    }

    [Fact]
    public async Task Names_that_are_not_valid_keys_are_encoded_without_collisions()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        await using var manager = new LeaseManager(connection, new LeaseOptions { Owner = "me" });
        // "=YSBi" is what "a b" encodes to: both must still be different locks.
        string[] names = ["a b", "=YSBi", "orders:42", "ümlaut", "*", ">", ".leading", "trailing.", "a..b", "tenant/7.job", "tab\tname"];
        var leases = new List<Lease>();
        foreach (var name in names)
        {
            leases.Add(await manager.AcquireAsync(name, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)));
        }

        foreach (var name in names)
        {
            Assert.Null(await manager.TryAcquireAsync(name));
            Assert.Equal("me", (await manager.GetHolderAsync(name))?.Owner);
        }

        Assert.Equal(names.Length, leases.Select(l => l.FencingToken).Distinct().Count());
        foreach (var lease in leases)
        {
            Assert.True(await lease.ReleaseAsync());
        }
    }

    [Fact]
    public async Task Registered_through_DI_on_the_shared_connection_with_validated_options()
    {
        await using var server = await NatsServer.StartAsync(output);
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Nats:Url"] = server.Url,
            ["Nats:Leases:Bucket"] = "locks",
            ["Nats:Leases:DefaultTtl"] = "00:00:03",
            ["Nats:Leases:Owner"] = "svc-1",
        }).Build();
        await using var sp = new ServiceCollection().AddLogging()
            .AddNatsConnection(config.GetSection("Nats"))
            .AddNatsLeases(config.GetSection("Nats:Leases"))
            .BuildServiceProvider();
        var leases = sp.GetRequiredService<ILeaseManager>();
        Assert.Same(sp.GetRequiredService<LeaseManager>(), leases);
        await using var lease = await leases.AcquireAsync("x", TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.FromSeconds(3), lease.Ttl);
        Assert.Equal("svc-1", lease.Owner);

        await using var bad = new ServiceCollection().AddNatsConnection(o => o.Url = server.Url)
            .AddNatsLeases(o => o.DefaultTtl = TimeSpan.FromMilliseconds(500)).BuildServiceProvider();
        Assert.Throws<OptionsValidationException>(() => bad.GetRequiredService<IOptions<LeaseOptions>>().Value);
        await using var badBucket = new ServiceCollection().AddNatsConnection(o => o.Url = server.Url)
            .AddNatsLeases(o => o.Bucket = "no.dots").BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => badBucket.GetRequiredService<IOptions<LeaseOptions>>().Value);
        Assert.Contains("Bucket", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ttl_is_rounded_up_to_whole_seconds()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), Internal.PatternTtl.Normalize(TimeSpan.FromSeconds(1.1), "ttl"));
        Assert.Equal(TimeSpan.FromSeconds(1), Internal.PatternTtl.Normalize(TimeSpan.FromSeconds(1), "ttl"));
    }
}

using CacheProvider.Connection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Extensions.Microsoft.DependencyInjection;

namespace CacheProvider.Tests.Connection;

public sealed class ConnectionRegistrationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Resolving_the_connection_does_not_connect_so_a_down_server_cannot_fail_DI()
    {
        var services = new ServiceCollection().AddNatsConnection(o => o.Url = $"nats://127.0.0.1:{NatsServer.FreePort()}");
        await using var sp = services.BuildServiceProvider();
        var connection = sp.GetNatsConnection();
        Assert.Equal(NatsConnectionState.Closed, connection.ConnectionState); // never opened
    }

    [Fact]
    public async Task Connection_bound_from_configuration_talks_to_the_server()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Nats:Url"] = server.Url, ["Nats:Name"] = "cfg" }).Build();
        await using var sp = new ServiceCollection().AddNatsConnection(config.GetSection("Nats")).BuildServiceProvider();
        var connection = sp.GetNatsConnection();
        await connection.PingAsync();
        Assert.Equal(NatsConnectionState.Open, connection.ConnectionState);
        Assert.StartsWith("cfg", connection.Opts.Name, StringComparison.Ordinal); // NATS.Net's registration appends "#<pool index>"
    }

    [Fact]
    public void Invalid_url_fails_options_validation_naming_the_problem()
    {
        using var sp = new ServiceCollection().AddNatsConnection(o => o.Url = "http://nope").BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<NatsConnectionOptions>>().Value);
        Assert.Equal("Nats:Url 'http://nope' must use nats://, tls://, ws:// or wss://", ex.Message);
    }

    [Fact]
    public async Task Keyed_connections_are_separate_instances()
    {
        var services = new ServiceCollection()
            .AddNatsClient(n => n.WithKey("a").ConfigureOptions(o => o.Configure(x => x.Opts = x.Opts with { Url = "nats://127.0.0.1:1" })))
            .AddNatsClient(n => n.WithKey("b").ConfigureOptions(o => o.Configure(x => x.Opts = x.Opts with { Url = "nats://127.0.0.1:2" })));
        await using var sp = services.BuildServiceProvider();
        var a = sp.GetNatsConnection("a");
        var b = sp.GetNatsConnection("b");
        Assert.NotSame(a, b);
        Assert.Contains(":1", a.Opts.Url, StringComparison.Ordinal);
        Assert.Contains(":2", b.Opts.Url, StringComparison.Ordinal);
    }
}

using CacheProvider.Connection;
using CacheProvider.Nats;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CacheProvider.Tests.Connection;

public sealed class ConnectionRegistrationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Resolving_the_connection_does_not_connect_so_a_down_server_cannot_fail_DI()
    {
        var services = new ServiceCollection().AddNatsConnection(o => o.Url = $"nats://127.0.0.1:{NatsServer.FreePort()}");
        await using var sp = services.BuildServiceProvider();
        var connection = sp.GetRequiredService<NatsConnection>();
        Assert.Equal(NatsConnectionState.New, connection.State);
    }

    [Fact]
    public async Task Connection_bound_from_configuration_talks_to_the_server()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Nats:Url"] = server.Url, ["Nats:Name"] = "cfg" }).Build();
        await using var sp = new ServiceCollection().AddNatsConnection(config.GetSection("Nats")).BuildServiceProvider();
        var connection = sp.GetRequiredService<NatsConnection>();
        await connection.FlushAsync();
        Assert.Equal(NatsConnectionState.Connected, connection.State);
    }

    [Fact]
    public void Invalid_url_fails_options_validation_naming_the_problem()
    {
        using var sp = new ServiceCollection().AddNatsConnection(o => o.Url = "http://nope").BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<NatsConnectionOptions>>().Value);
        Assert.Contains("NATS", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keyed_connections_are_separate_instances()
    {
        var services = new ServiceCollection()
            .AddKeyedNatsConnection("a", o => o.Url = "nats://127.0.0.1:1")
            .AddKeyedNatsConnection("b", o => o.Url = "nats://127.0.0.1:2");
        await using var sp = services.BuildServiceProvider();
        var a = sp.GetRequiredKeyedService<NatsConnection>("a");
        var b = sp.GetRequiredKeyedService<NatsConnection>("b");
        Assert.NotSame(a, b);
        Assert.Contains(":1", a.Options.Url, StringComparison.Ordinal);
    }
}

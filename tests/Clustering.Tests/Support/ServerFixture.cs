using NATS.Client.Core;

namespace CacheProvider.Clustering.Tests.Support;

/// <summary>One nats-server (JetStream, file store in a temp dir) and one connection per test class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public NatsServer Server { get; private set; } = null!;

    public NatsConnection Connection { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await NatsServer.StartAsync();
        Connection = await Server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Server.DisposeAsync();
    }
}

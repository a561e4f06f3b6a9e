using CacheProvider.Grains.Contracts;
using CacheProvider.Nats;

namespace CacheProvider.Grains.Tests.Support;

/// <summary>A real nats-server, a connection, and providers on it with a fresh service id (<c>guid/foo</c>, as Orleans' tests).</summary>
internal sealed class GrainsTestHost : IAsyncDisposable
{
    private readonly List<NatsConnection> _connections = [];

    private GrainsTestHost(NatsServer server, NatsConnection connection)
    {
        Server = server;
        Connection = connection;
        _connections.Add(connection);
    }

    public NatsServer Server { get; }

    public NatsConnection Connection { get; }

    public string ServiceId { get; } = Guid.NewGuid() + "/foo";

    public static async Task<GrainsTestHost> StartAsync(ITestOutputHelper output)
    {
        var server = await NatsServer.StartAsync(output);
        return new GrainsTestHost(server, new NatsConnection(server.Url));
    }

    public NatsConnection NewConnection()
    {
        var connection = new NatsConnection(Server.Url);
        _connections.Add(connection);
        return connection;
    }

    public NatsGrainStorage CreateStorage(bool deleteStateOnClear, Action<NatsGrainStorageOptions>? configure = null, NatsConnection? connection = null, TimeProvider? time = null, string name = "nats")
    {
        var options = new NatsGrainStorageOptions { ServiceId = ServiceId, DeleteStateOnClear = deleteStateOnClear };
        configure?.Invoke(options);
        return new NatsGrainStorage(name, options, connection ?? Connection, timeProvider: time);
    }

    public NatsReminderTable CreateReminderTable(Action<NatsReminderTableOptions>? configure = null)
    {
        var options = new NatsReminderTableOptions { ServiceId = ServiceId };
        configure?.Invoke(options);
        return new NatsReminderTable(options, Connection);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        await Server.DisposeAsync();
    }
}

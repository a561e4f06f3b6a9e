using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using NATS.Client.Core;

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

    /// <summary>
    /// A connection to a port nothing listens on, for tests that never reach the server (construction, validation,
    /// key shapes): NATS.Net connects on first use only. Dispose it.
    /// </summary>
    public static NatsConnection UnusedConnection() => new(TestNats.Options("nats://127.0.0.1:1"));

    public NatsConnection Connection { get; }

    public string ServiceId { get; } = Guid.NewGuid() + "/foo";

    public static async Task<GrainsTestHost> StartAsync(ITestOutputHelper output)
    {
        var server = await NatsServer.StartAsync(output);
        try
        {
            return new GrainsTestHost(server, await server.ConnectAsync());
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A second, independent connection to the same server (another silo's view).</summary>
    public async Task<NatsConnection> NewConnectionAsync()
    {
        var connection = await Server.ConnectAsync();
        _connections.Add(connection);
        return connection;
    }

    public NatsGrainStorage CreateStorage(bool deleteStateOnClear, Action<NatsGrainStorageOptions>? configure = null, INatsConnection? connection = null, TimeProvider? time = null, string name = "nats")
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

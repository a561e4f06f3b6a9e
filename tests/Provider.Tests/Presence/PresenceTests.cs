using System.Threading.Channels;
using CacheProvider.Presence;
using NATS.Client.Core;

namespace CacheProvider.Tests.Presence;

public sealed class PresenceTests(ITestOutputHelper output)
{
    private static async Task<PresenceChange> NextAsync(ChannelReader<PresenceChange> changes, string member)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var change = await changes.ReadAsync(cts.Token);
            if (change.Member == member)
            {
                return change;
            }
        }
    }

    [Fact]
    public async Task Watch_reports_online_then_offline_with_expired_or_left()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        var deviceConnection = await server.ConnectAsync();
        await using var tracker = new PresenceTracker(connection, new PresenceOptions());
        var device = new PresenceTracker(deviceConnection, new PresenceOptions());

        var changes = Channel.CreateUnbounded<PresenceChange>();
        using var stop = new CancellationTokenSource();
        var watching = Task.Run(async () =>
        {
            try
            {
                await foreach (var c in tracker.WatchAsync("home", stop.Token))
                {
                    output.WriteLine(c.ToString());
                    await changes.Writer.WriteAsync(c);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        var alice = await tracker.JoinAsync("home", "alice", "phone"u8.ToArray(), TimeSpan.FromSeconds(2));
        _ = await device.JoinAsync("home", "kitchen/thermostat", ttl: TimeSpan.FromSeconds(2));
        var online = await NextAsync(changes.Reader, "alice");
        Assert.Equal((PresenceChangeKind.Online, PresenceChangeReason.Joined), (online.Kind, online.Reason));
        Assert.Equal("phone"u8.ToArray(), online.Info.ToArray());
        Assert.Equal(PresenceChangeKind.Online, (await NextAsync(changes.Reader, "kitchen/thermostat")).Kind);

        // Heartbeats keep alice online past her TTL without repeating "online".
        await Task.Delay(3000);
        var members = await tracker.GetOnlineAsync("home");
        Assert.Equal(["alice", "kitchen/thermostat"], members.Select(m => m.Member).Order(StringComparer.Ordinal));

        // The thermostat's process dies: no leave, heartbeats stop, the server expires it.
        await deviceConnection.DisposeAsync();
        var expired = await NextAsync(changes.Reader, "kitchen/thermostat");
        Assert.Equal((PresenceChangeKind.Offline, PresenceChangeReason.Expired), (expired.Kind, expired.Reason));

        await alice.LeaveAsync();
        var left = await NextAsync(changes.Reader, "alice");
        Assert.Equal((PresenceChangeKind.Offline, PresenceChangeReason.Left), (left.Kind, left.Reason));
        Assert.Empty(await tracker.GetOnlineAsync("home"));

        await stop.CancelAsync();
        await watching;
        await device.DisposeAsync();
    }

    [Fact]
    public async Task Monitor_raises_events_and_groups_are_separate()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        await using var tracker = new PresenceTracker(connection, new PresenceOptions { Ttl = TimeSpan.FromSeconds(2) });
        await tracker.HeartbeatAsync("room 1", "already-here");
        await using var monitor = tracker.CreateMonitor("room 1");
        var events = Channel.CreateUnbounded<PresenceChange>();
        monitor.MemberOnline += (_, e) => events.Writer.TryWrite(e.Change);
        monitor.MemberOffline += (_, e) => events.Writer.TryWrite(e.Change);
        monitor.Start();

        // Online when the monitor started: reported first.
        var first = await NextAsync(events.Reader, "already-here");
        Assert.Equal(PresenceChangeKind.Online, first.Kind);
        Assert.Equal("room 1", first.Group);

        await tracker.HeartbeatAsync("room 2", "elsewhere", ttl: TimeSpan.FromSeconds(60));
        await using (await tracker.JoinAsync("room 1", "visitor ü"))
        {
            Assert.Equal(PresenceChangeKind.Online, (await NextAsync(events.Reader, "visitor ü")).Kind);
        }

        var left = await NextAsync(events.Reader, "visitor ü");
        Assert.Equal(PresenceChangeReason.Left, left.Reason);
        var expired = await NextAsync(events.Reader, "already-here");
        Assert.Equal(PresenceChangeReason.Expired, expired.Reason);
        Assert.Single(await tracker.GetOnlineAsync("room 2"));
    }

    [Fact]
    public async Task Bad_input_throws_typed_exceptions()
    {
        await using var connection = new NatsConnection(TestNats.Options($"nats://127.0.0.1:{NatsServer.FreePort()}"));
        await using var tracker = new PresenceTracker(connection, new PresenceOptions { MaxInfoBytes = 8 });
        await Assert.ThrowsAsync<ArgumentException>(() => tracker.HeartbeatAsync("", "m"));
        await Assert.ThrowsAsync<ArgumentException>(() => tracker.HeartbeatAsync("g", ""));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => tracker.HeartbeatAsync("g", "m", ttl: TimeSpan.FromMilliseconds(999)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => tracker.JoinAsync("g", "m", ttl: TimeSpan.Zero));
        await Assert.ThrowsAsync<ArgumentException>(() => tracker.HeartbeatAsync("g", "m", new byte[9]));
        await Assert.ThrowsAsync<ArgumentException>(() => tracker.GetOnlineAsync(""));
        Assert.Throws<ArgumentException>(() => new PresenceTracker(connection, new PresenceOptions { Ttl = TimeSpan.FromMilliseconds(10) }));
        Assert.Throws<ArgumentException>(() => tracker.CreateMonitor(""));
    }
}

using System.Text;
using System.Threading.Channels;
using CacheProvider.Presence;
using CacheProvider.Samples.Expiry;
using NATS.Client.Core;

namespace CacheProvider.Samples.Patterns;

/// <summary>
/// Devices keep themselves online with heartbeats; a dashboard watches the group. One device leaves politely, one
/// loses power (its process is gone: the server expires it), and the dashboard is told which was which.
/// </summary>
internal sealed class PresenceDemo(string url, DemoNames names, PresenceTracker dashboard, Narrator say)
{
    private const string Group = "home";
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(2);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        say.Heading("Presence: devices going offline, expired vs left");
        var events = Channel.CreateUnbounded<PresenceChange>();
        await using var monitor = dashboard.CreateMonitor(Group);
        monitor.MemberOnline += (_, e) => Report(e.Change, events);
        monitor.MemberOffline += (_, e) => Report(e.Change, events);
        monitor.Start();

        var devices = new List<(NatsConnection Connection, PresenceTracker Tracker, PresenceRegistration Registration)>();
        foreach (var name in new[] { "sensor-1", "sensor-2", "thermostat (kitchen)" })
        {
            // Each device is its own process in real life: its own connection.
            var connection = new NatsConnection(NatsOpts.Default with { Url = url, Name = name });
            var tracker = new PresenceTracker(connection, new PresenceOptions { Bucket = names.Presence, Ttl = Ttl });
            var registration = await tracker.JoinAsync(Group, name, Encoding.UTF8.GetBytes("fw 1.4"), cancellationToken: cancellationToken).ConfigureAwait(false);
            devices.Add((connection, tracker, registration));
            await ExpectAsync(events.Reader, name, PresenceChangeKind.Online, PresenceChangeReason.Joined, cancellationToken).ConfigureAwait(false);
        }

        say.Say($"devices heartbeat every {Ttl.TotalSeconds / 3:0.00} s with a {Ttl.TotalSeconds:0} s TTL; waiting 3 s (longer than the TTL)");
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken).ConfigureAwait(false);
        await ListAsync(3, cancellationToken).ConfigureAwait(false);

        say.Say("sensor-2 shuts down cleanly and leaves");
        await devices[1].Registration.LeaveAsync(cancellationToken).ConfigureAwait(false);
        await ExpectAsync(events.Reader, "sensor-2", PresenceChangeKind.Offline, PresenceChangeReason.Left, cancellationToken).ConfigureAwait(false);

        say.Say("the thermostat loses power: no leave, its heartbeats just stop");
        await devices[2].Connection.DisposeAsync().ConfigureAwait(false);
        await ExpectAsync(events.Reader, "thermostat (kitchen)", PresenceChangeKind.Offline, PresenceChangeReason.Expired, cancellationToken).ConfigureAwait(false);
        await ListAsync(1, cancellationToken).ConfigureAwait(false);

        foreach (var (connection, tracker, _) in devices)
        {
            await tracker.DisposeAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        await ExpectAsync(events.Reader, "sensor-1", PresenceChangeKind.Offline, PresenceChangeReason.Left, cancellationToken).ConfigureAwait(false);
    }

    private void Report(PresenceChange change, Channel<PresenceChange> events)
    {
        say.Say($"  dashboard event: {change.Member} is {change.Kind.ToString().ToLowerInvariant()} ({change.Reason})");
        events.Writer.TryWrite(change);
    }

    private async Task ListAsync(int expected, CancellationToken cancellationToken)
    {
        var online = await dashboard.GetOnlineAsync(Group, cancellationToken).ConfigureAwait(false);
        say.Say($"online now: {string.Join(", ", online.Select(m => m.Member).Order(StringComparer.Ordinal))}");
        if (online.Count != expected)
        {
            throw new DemoFailedException($"expected {expected} devices online, found {online.Count}");
        }
    }

    private static async Task ExpectAsync(ChannelReader<PresenceChange> events, string member, PresenceChangeKind kind, PresenceChangeReason reason, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            while (true)
            {
                var change = await events.ReadAsync(timeout.Token).ConfigureAwait(false);
                if (change.Member == member && change.Kind == kind)
                {
                    if (change.Reason != reason)
                    {
                        throw new DemoFailedException($"{member} went {kind} with reason {change.Reason}, expected {reason}");
                    }

                    return;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DemoFailedException($"no {kind} event for {member} within 10 s");
        }
    }
}

using CacheProvider.Presence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Samples.Web.Board;

/// <summary>
/// Presence on the board: three devices heartbeat into a presence bucket (TTL <see cref="WebDemoOptions.PresenceTtl"/>).
/// The door sensor's battery flickers (its heartbeats stop for a while, every minute), and a page can stop or resume any
/// device: a device that stops heartbeating goes offline when its TTL runs out, as the server's marker says.
/// </summary>
internal sealed class PresenceDemo(IPresenceTracker presence, BoardFeed feed, WebDemoOptions options, ILogger<PresenceDemo> logger)
    : BackgroundService, IBoardSource
{
    public const string Group = "devices";
    public static readonly string[] Devices = ["thermostat", "door-sensor", "camera"];
    private const string Flickering = "door-sensor";
    private static readonly TimeSpan FlickerOn = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan FlickerOff = TimeSpan.FromSeconds(25);
    private readonly Dictionary<string, DeviceState> _devices = Devices.ToDictionary(d => d, _ => new DeviceState(), StringComparer.Ordinal);

    /// <summary>Stops (<paramref name="beating"/> false) or resumes a device's heartbeats; false for an unknown device.</summary>
    public bool SetBeating(string device, bool beating)
    {
        lock (_devices)
        {
            if (!_devices.TryGetValue(device, out var state))
            {
                return false;
            }

            state.Beating = beating;
            state.Manual = true;
        }

        feed.Publish(Describe(device));
        return true;
    }

    /// <inheritdoc />
    public IReadOnlyList<object> Snapshot()
    {
        var list = new List<object>();
        foreach (var d in Devices)
        {
            list.Add(Describe(d));
        }

        return list;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        feed.AddSource(this); // synchronously, while the host starts: before any page connects
        var watch = WatchAsync(stoppingToken);
        var beat = HeartbeatAsync(stoppingToken);
        await Task.WhenAll(watch, beat).ConfigureAwait(false);
    }

    private async Task HeartbeatAsync(CancellationToken stoppingToken)
    {
        var ttl = options.PresenceTtl;
        var every = TimeSpan.FromTicks(ttl.Ticks / 3);
        var started = DateTimeOffset.UtcNow;
        while (!stoppingToken.IsCancellationRequested)
        {
            // The flickering sensor: on for FlickerOn, off for FlickerOff, over and over, unless a page took over.
            var phase = (DateTimeOffset.UtcNow - started).Ticks % (FlickerOn + FlickerOff).Ticks;
            foreach (var device in Devices)
            {
                bool beating;
                lock (_devices)
                {
                    var state = _devices[device];
                    if (device == Flickering && !state.Manual)
                    {
                        state.Beating = phase < FlickerOn.Ticks;
                    }

                    beating = state.Beating;
                }

                if (!beating)
                {
                    continue;
                }

                try
                {
                    await presence.HeartbeatAsync(Group, device, ttl: ttl, cancellationToken: stoppingToken).ConfigureAwait(false);
                    lock (_devices)
                    {
                        _devices[device].LastBeat = DateTimeOffset.UtcNow;
                    }

                    feed.Publish(Describe(device));
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    logger.LogWarning(ex, "Heartbeat of {Device} failed", device);
                }
            }

            try
            {
                await Task.Delay(every, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var change in presence.WatchAsync(Group, stoppingToken).ConfigureAwait(false))
                {
                    lock (_devices)
                    {
                        if (!_devices.TryGetValue(change.Member, out var state))
                        {
                            continue;
                        }

                        state.Online = change.Kind == PresenceChangeKind.Online;
                        state.Reason = change.Reason.ToString().ToLowerInvariant();
                        state.ChangedAt = change.Timestamp;
                    }

                    feed.Publish(Describe(change.Member));
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Presence watch failed; retrying in 1 s");
                try
                {
                    await Task.Delay(1000, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private object Describe(string device)
    {
        lock (_devices)
        {
            var s = _devices[device];
            return new
            {
                type = "device",
                device,
                online = s.Online,
                beating = s.Beating,
                reason = s.Reason,
                ttlMs = (long)options.PresenceTtl.TotalMilliseconds,
                lastBeatMs = s.LastBeat?.ToUnixTimeMilliseconds(),
                changedMs = s.ChangedAt?.ToUnixTimeMilliseconds(),
            };
        }
    }

    private sealed class DeviceState
    {
        public bool Beating { get; set; } = true;

        public bool Manual { get; set; }

        public bool Online { get; set; }

        public string? Reason { get; set; }

        public DateTimeOffset? LastBeat { get; set; }

        public DateTimeOffset? ChangedAt { get; set; }
    }
}

using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using CacheProvider.Internal;
using NATS.Client.Core;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CacheProvider.Presence;

/// <summary>
/// Presence on NATS KV: key <c>[prefix.]group.member</c>, a put with TTL per heartbeat, a self-removing purge per
/// leave; the server's expiry marker tells watchers a member vanished. Thread-safe. Disposing leaves every group
/// joined through it.
/// </summary>
public sealed class PresenceTracker : IPresenceTracker, IAsyncDisposable
{
    private readonly INatsConnection _connection;
    private readonly PresenceOptions _options;
    private readonly PatternBucketProvider _bucket;
    private readonly TimeSpan _tombstoneTtl;
    private readonly ConcurrentDictionary<PresenceRegistration, byte> _registrations = new();
    private int _disposed;

    /// <summary>Creates a tracker on <paramref name="connection"/> (not owned).</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public PresenceTracker(INatsConnection connection, PresenceOptions options, ILogger<PresenceTracker>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _connection = connection;
        _options = options;
        TimeProvider = timeProvider ?? TimeProvider.System;
        Logger = (ILogger?)logger ?? NullLogger.Instance;
        _tombstoneTtl = PatternTtl.Normalize(options.LimitMarkerTtl, nameof(options.LimitMarkerTtl));
        _bucket = new PatternBucketProvider(connection, options.ToBucketConfig(), TimeProvider, Logger);
        _connection.ConnectionOpened += OnReconnected;
    }

    /// <summary>Creates a tracker from DI options.</summary>
    public PresenceTracker(INatsConnection connection, IOptions<PresenceOptions> options, ILogger<PresenceTracker>? logger = null, TimeProvider? timeProvider = null)
        : this(connection, (options ?? throw new ArgumentNullException(nameof(options))).Value, logger, timeProvider)
    {
    }

    internal TimeProvider TimeProvider { get; }

    internal ILogger Logger { get; }

    /// <inheritdoc />
    public async Task<PresenceRegistration> JoinAsync(string group, string member, ReadOnlyMemory<byte> info = default, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        var heartbeatTtl = PatternTtl.Normalize(ttl ?? _options.Ttl, nameof(ttl));
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var sentAt = TimeProvider.GetUtcNow();
        await HeartbeatAsync(group, member, info, heartbeatTtl, cancellationToken).ConfigureAwait(false);
        var interval = TimeSpan.FromTicks((long)(heartbeatTtl.Ticks * _options.HeartbeatFraction));
        var registration = new PresenceRegistration(this, group, member, info.ToArray(), heartbeatTtl, interval, sentAt);
        _registrations[registration] = 0;
        registration.Start();
        Logger.LogDebug("Joined presence group {Group} (TTL {Ttl})", group, heartbeatTtl);
        return registration;
    }

    /// <inheritdoc />
    public async Task<ulong> HeartbeatAsync(string group, string member, ReadOnlyMemory<byte> info = default, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        var key = Key(group, member);
        var heartbeatTtl = PatternTtl.Normalize(ttl ?? _options.Ttl, nameof(ttl));
        if (info.Length > _options.MaxInfoBytes)
        {
            throw new ArgumentException($"Presence info is {info.Length} bytes; at most {_options.MaxInfoBytes} are allowed", nameof(info));
        }

        var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
        return await bucket.PutAsync(key, info, heartbeatTtl, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task LeaveAsync(string group, string member, CancellationToken cancellationToken = default)
    {
        var key = Key(group, member);
        var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);

        // A purge (not a delete) whose tombstone removes itself: watchers see it once, nothing stays behind.
        await bucket.PurgeAsync(key, _tombstoneTtl, cancellationToken: cancellationToken).ConfigureAwait(false);
        Logger.LogDebug("Left presence group {Group}", group);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PresenceMember>> GetOnlineAsync(string group, CancellationToken cancellationToken = default)
    {
        var filter = GroupKey(group) + ".*";
        var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);

        // One multi_last batch for the whole group instead of a key listing plus one read per member.
        var entries = await bucket.GetValuesAsync(filter, cancellationToken).ConfigureAwait(false);
        var members = new List<PresenceMember>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            members.Add(new PresenceMember { Group = group, Member = MemberOf(entry.Key), LastSeen = entry.Created, ExpiresAt = entry.ExpiresAt, Info = entry.Value });
        }

        return members;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<PresenceChange> WatchAsync(string group, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var filter = GroupKey(group) + ".*";
        var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
        var online = new HashSet<string>(StringComparer.Ordinal);

        // Latest revision per member first (who is online now), then every change: a join and a leave made before the
        // watch started show only as the leave, which is ignored because the member was never seen online.
        await foreach (var entry in bucket.WatchAsync(filter, new KvWatchOptions(), cancellationToken).ConfigureAwait(false))
        {
            var change = Classify(entry, online);
            if (change is not null)
            {
                yield return change with { Group = group };
            }
        }
    }

    /// <summary>Creates a monitor raising events for <paramref name="group"/>; call <see cref="PresenceMonitor.Start"/>.</summary>
    public PresenceMonitor CreateMonitor(string group)
    {
        _ = GroupKey(group);
        return new PresenceMonitor(this, group, Logger);
    }

    /// <summary>Leaves every group joined through this tracker (errors are logged).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _connection.ConnectionOpened -= OnReconnected;
        foreach (var registration in _registrations.Keys)
        {
            await registration.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal void Forget(PresenceRegistration registration) => _registrations.TryRemove(registration, out _);

    internal static bool IsTransient(Exception ex) =>
        ex is NatsException or TimeoutException or OperationCanceledException or ObjectDisposedException or IOException;

    private PresenceChange? Classify(KvEntry entry, HashSet<string> online)
    {
        var member = MemberOf(entry.Key);
        if (entry.IsValue)
        {
            // A heartbeat already past its deadline (seen in the initial snapshot) is as good as offline: its marker follows.
            if (entry.IsExpiredAt(TimeProvider.GetUtcNow()) || !online.Add(member))
            {
                return null;
            }

            return new PresenceChange { Group = "", Member = member, Kind = PresenceChangeKind.Online, Reason = PresenceChangeReason.Joined, Timestamp = entry.Created, Revision = entry.Revision, Info = entry.Value };
        }

        if (!online.Remove(member))
        {
            return null;
        }

        var reason = entry.MarkerReason == KvMarkerReason.None ? PresenceChangeReason.Left : PresenceChangeReason.Expired;
        return new PresenceChange { Group = "", Member = member, Kind = PresenceChangeKind.Offline, Reason = reason, Timestamp = entry.Created, Revision = entry.Revision };
    }

    private string GroupKey(string group) => PatternKeyCodec.Join(_options.KeyPrefix, PatternKeyCodec.Encode(group, allowDots: false, nameof(group)));

    private string Key(string group, string member) => GroupKey(group) + "." + PatternKeyCodec.Encode(member, allowDots: false, nameof(member));

    private static string MemberOf(string key) => PatternKeyCodec.Decode(key[(key.LastIndexOf('.') + 1)..]);

    private ValueTask OnReconnected(object? sender, NatsEventArgs e)
    {
        foreach (var registration in _registrations.Keys)
        {
            registration.Kick();
        }

        return default;
    }
}

using System.Collections.Concurrent;
using CacheProvider.Internal;
using NATS.Client.Core;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CacheProvider.Leases;

/// <summary>
/// Leased locks on NATS KV: acquire = create with TTL, renew = compare-and-set with TTL, release = compare-and-set
/// purge with a self-removing tombstone. A holder that dies stops renewing and the lock frees itself after its TTL;
/// waiters learn of it from the server's expiry marker. Waiters for one name in one manager queue locally in
/// arrival order and only the first of them watches the key. Thread-safe; one instance per application is enough.
/// Disposing releases every lease it still holds.
/// </summary>
public sealed partial class LeaseManager : ILeaseManager, IAsyncDisposable
{
    // When the holder's deadline passed and no marker arrived (a bucket without markers), look again this much later.
    private static readonly TimeSpan ExpiryFallbackGrace = TimeSpan.FromMilliseconds(500);

    private readonly INatsConnection _connection;
    private readonly LeaseOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PatternBucketProvider _bucket;
    private readonly string _owner;
    private readonly ConcurrentDictionary<Lease, byte> _active = new();
    private int _disposed;

    /// <summary>Creates a manager on <paramref name="connection"/> (not owned: the caller disposes it).</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public LeaseManager(INatsConnection connection, LeaseOptions options, ILogger<LeaseManager>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _connection = connection;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _owner = string.IsNullOrEmpty(options.Owner) ? $"{Environment.MachineName}/{Environment.ProcessId}" : options.Owner;
        _bucket = new PatternBucketProvider(connection, options.ToBucketConfig(), _time, _logger);
        _connection.ConnectionOpened += OnReconnected;
    }

    /// <summary>Creates a manager from DI options.</summary>
    public LeaseManager(INatsConnection connection, IOptions<LeaseOptions> options, ILogger<LeaseManager>? logger = null, TimeProvider? timeProvider = null)
        : this(connection, (options ?? throw new ArgumentNullException(nameof(options))).Value, logger, timeProvider)
    {
    }

    /// <summary>The holder identity stored with this manager's leases.</summary>
    public string Owner => _owner;

    /// <summary>Leases this manager holds right now.</summary>
    public int ActiveLeases => _active.Count;

    /// <inheritdoc />
    public Task<Lease?> TryAcquireAsync(string name, TimeSpan? ttl = null, CancellationToken cancellationToken = default) =>
        AcquireCoreAsync(name, TimeSpan.Zero, ttl, cancellationToken);

    /// <inheritdoc />
    public async Task<Lease> AcquireAsync(string name, TimeSpan timeout, TimeSpan? ttl = null, CancellationToken cancellationToken = default) =>
        await AcquireCoreAsync(name, timeout, ttl, cancellationToken).ConfigureAwait(false)
        ?? throw new TimeoutException($"Lock '{name}' was not free within {timeout}");

    /// <summary>
    /// One create attempt (skipped when local waiters are already queued), then (unless <paramref name="timeout"/> is
    /// zero) waiting in the local queue; null on timeout.
    /// </summary>
    private async Task<Lease?> AcquireCoreAsync(string name, TimeSpan timeout, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        var key = PatternKeyCodec.Join(_options.KeyPrefix, PatternKeyCodec.Encode(name, allowDots: true, nameof(name)));
        var leaseTtl = PatternTtl.Normalize(ttl ?? _options.DefaultTtl, nameof(ttl));
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must not be negative (Timeout.InfiniteTimeSpan waits until cancelled)");
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
        var attempt = new Attempt(this, bucket, name, key, leaseTtl);

        // With local waiters already queued for this name a waiting call joins them instead of overtaking them: a
        // create of its own would race the head waiter's hand-over (measured: more round trips, worse p99).
        var joinQueue = timeout != TimeSpan.Zero && HasLocalWaiters(key);
        var first = default(CreateResult);
        if (!joinQueue)
        {
            first = await attempt.TryCreateAsync(cancellationToken).ConfigureAwait(false);
            if (first.Lease is not null || timeout == TimeSpan.Zero)
            {
                return first.Lease;
            }
        }

        using var timeoutCts = timeout == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutCts.Token);
        var gate = EnterQueue(key);
        try
        {
            // Local waiters of one name take turns in arrival order; only the head runs a watch on the server.
            var turn = gate.Turn.WaitAsync(linked.Token);
            var queued = !turn.IsCompleted;
            await turn.ConfigureAwait(false);
            try
            {
                // A waiter before us may have taken and already released the lock: look again before watching. Without
                // one ahead of us the first attempt is still fresh.
                var current = queued || joinQueue ? await attempt.TryCreateAsync(linked.Token).ConfigureAwait(false) : first;
                return current.Lease ?? await attempt.WaitAndCreateAsync(current, linked.Token).ConfigureAwait(false);
            }
            finally
            {
                gate.Turn.Release();
            }
        }
        catch (OperationCanceledException) when (timeoutCts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            _logger.LogDebug("Lock {Name} still taken after {Timeout}", name, timeout);
            return null;
        }
        finally
        {
            LeaveQueue(key, gate);
        }
    }

    /// <inheritdoc />
    public async Task<LeaseHolder?> GetHolderAsync(string name, CancellationToken cancellationToken = default)
    {
        var key = PatternKeyCodec.Join(_options.KeyPrefix, PatternKeyCodec.Encode(name, allowDots: true, nameof(name)));
        var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
        var entry = await bucket.GetAsync(key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
        return entry is null ? null : new LeaseHolder { Name = name, Owner = LeaseValue.Owner(entry.Value.Span), Revision = entry.Revision, ExpiresAt = entry.ExpiresAt };
    }

    /// <summary>Releases every lease still held (errors are logged) and stops listening to the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _connection.ConnectionOpened -= OnReconnected;
        foreach (var lease in _active.Keys)
        {
            await lease.DisposeAsync().ConfigureAwait(false);
        }
    }

    private ValueTask OnReconnected(object? sender, NatsEventArgs e)
    {
        foreach (var lease in _active.Keys)
        {
            lease.Kick();
        }

        return default;
    }

    private Lease NewLease(KvBucket bucket, string name, string key, string nonce, byte[] value, ulong revision, TimeSpan ttl, DateTimeOffset sentAt)
    {
        var context = new LeaseContext(bucket, _time, _logger, _owner, _options.RenewalFraction, PatternTtl.Normalize(_options.LimitMarkerTtl, nameof(_options.LimitMarkerTtl)), l => _active.TryRemove(l, out _));
        var lease = new Lease(context, name, key, nonce, value, revision, ttl, sentAt);
        _active[lease] = 0;
        lease.Start();
        _logger.LogDebug("Acquired lease {Name} (fencing token {Token}, TTL {Ttl})", name, revision, ttl);
        return lease;
    }

    /// <summary>What a <see cref="Lease"/> needs from its manager.</summary>
    internal sealed record LeaseContext(KvBucket Bucket, TimeProvider TimeProvider, ILogger Logger, string Owner, double RenewalFraction, TimeSpan TombstoneTtl, Action<Lease> OnEnded);
}

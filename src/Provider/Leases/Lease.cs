using NATS.Client.Core;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Leases;

/// <summary>
/// A held lock. It renews itself (compare-and-set on its last revision, with the TTL) after
/// <see cref="LeaseOptions.RenewalFraction"/> of the TTL, and signals through <see cref="LostToken"/> and
/// <see cref="Lost"/> when it can no longer be sure it holds the lock. Pass <see cref="FencingToken"/> to the
/// resources the lock protects so they can reject writes from a holder that lost the lease without knowing.
/// Dispose (or <see cref="ReleaseAsync"/>) to release it.
/// </summary>
public sealed class Lease : IAsyncDisposable
{
    private const int Held = 0;
    private const int LostState = 1;
    private const int Released = 2;

    private readonly KvBucket _bucket;
    private readonly string _key;
    private readonly string _nonce;
    private readonly byte[] _value;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _renewInterval;
    private readonly TimeSpan _tombstoneTtl;
    private readonly Action<Lease> _onEnded;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _ended = new();
    private readonly CancellationTokenSource _stopRenewal = new();
    private readonly object _kickLock = new();
    private TaskCompletionSource _kick = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _renewal = Task.CompletedTask;
    private int _state;
    private ulong _revision;
    private long _validUntilTicks;
    private DateTimeOffset _lastSentAt;
    private Exception? _lastError;
    private LeaseLostReason? _lostReason;

    internal Lease(LeaseManager.LeaseContext context, string name, string key, string nonce, byte[] value, ulong revision, TimeSpan ttl, DateTimeOffset sentAt)
    {
        _bucket = context.Bucket;
        _time = context.TimeProvider;
        _logger = context.Logger;
        _renewInterval = TimeSpan.FromTicks((long)(ttl.Ticks * context.RenewalFraction));
        _tombstoneTtl = context.TombstoneTtl;
        _onEnded = context.OnEnded;
        Owner = context.Owner;
        Name = name;
        _key = key;
        _nonce = nonce;
        _value = value;
        _revision = revision;
        FencingToken = revision;
        Ttl = ttl;
        _lastSentAt = sentAt;
        // Counted from when the create was sent, not acknowledged: the server's deadline is never earlier.
        _validUntilTicks = (sentAt + ttl).UtcTicks;
        LostToken = _ended.Token;
    }

    /// <summary>The lock name.</summary>
    public string Name { get; }

    /// <summary>This holder's <see cref="LeaseOptions.Owner"/>.</summary>
    public string Owner { get; }

    /// <summary>
    /// The KV revision of the acquisition: strictly greater than the token of every earlier holder of this lock.
    /// It does not change when the lease renews.
    /// </summary>
    public ulong FencingToken { get; }

    /// <summary>The TTL (whole seconds).</summary>
    public TimeSpan Ttl { get; }

    /// <summary>The KV revision of the last acquire or renewal.</summary>
    public ulong Revision => Interlocked.Read(ref _revision);

    /// <summary>
    /// Until when this holder may act on the lock: the send time of the last successful renewal plus the TTL (the
    /// server's deadline is never earlier).
    /// </summary>
    public DateTimeOffset ValidUntil => new(Interlocked.Read(ref _validUntilTicks), TimeSpan.Zero);

    /// <summary>Whether the lease is neither lost nor released and still within <see cref="ValidUntil"/>.</summary>
    public bool IsHeld => Volatile.Read(ref _state) == Held && _time.GetUtcNow() < ValidUntil;

    /// <summary>Why the lease was lost; null while held or after a release.</summary>
    public LeaseLostReason? LostReason => _lostReason;

    /// <summary>
    /// Cancelled when the lease is lost or released: pass it to the work the lock protects. (Released leases cancel it
    /// without raising <see cref="Lost"/>.)
    /// </summary>
    public CancellationToken LostToken { get; }

    /// <summary>
    /// Raised once (on the thread pool) when the lease is lost: renewals failed until the TTL ran out, or the key
    /// expired or was taken by another holder. Handlers added after the loss are not called: check
    /// <see cref="LostToken"/> as well.
    /// </summary>
    public event EventHandler<LeaseLostEventArgs>? Lost;

    /// <summary>Renews now instead of waiting for the next automatic renewal.</summary>
    /// <returns>True when renewed; false when the lease is lost or released (or the renewal failed transiently).</returns>
    public async Task<bool> RenewAsync(CancellationToken cancellationToken = default)
    {
        var outcome = await RenewOnceAsync(cancellationToken).ConfigureAwait(false);
        if (outcome == RenewOutcome.Stopped)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        return outcome == RenewOutcome.Renewed;
    }

    /// <summary>
    /// Stops renewing and removes the key if this holder still owns it (compare-and-set purge whose tombstone removes
    /// itself after <see cref="PatternBucketOptions.LimitMarkerTtl"/>, so no permanent tombstone is left). Waiters wake at once.
    /// </summary>
    /// <returns>True when this call removed the key; false when the lease was already lost or released.</returns>
    public async Task<bool> ReleaseAsync(CancellationToken cancellationToken = default)
    {
        await _stopRenewal.CancelAsync().ConfigureAwait(false);
        await _renewal.ConfigureAwait(false);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Interlocked.CompareExchange(ref _state, Released, Held) != Held)
            {
                return false;
            }

            try
            {
                await _bucket.PurgeAsync(_key, _tombstoneTtl, Revision, cancellationToken).ConfigureAwait(false);
                _logger.LogDebug("Released lease {Name} (fencing token {Token})", Name, FencingToken);
                return true;
            }
            catch (KvWrongRevisionException)
            {
            }

            // A renewal may have reached the server although its acknowledgement was lost: the key then still carries
            // our nonce at a revision we have not seen.
            var last = await _bucket.GetLastAsync(_key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
            if (last is { IsValue: true } && LeaseValue.HasNonce(last.Value.Span, _nonce))
            {
                try
                {
                    await _bucket.PurgeAsync(_key, _tombstoneTtl, last.Revision, cancellationToken).ConfigureAwait(false);
                    return true;
                }
                catch (KvWrongRevisionException)
                {
                }
            }

            _logger.LogDebug("Lease {Name} (fencing token {Token}) was no longer ours at release", Name, FencingToken);
            return false;
        }
        finally
        {
            _gate.Release();
            End();
        }
    }

    /// <summary>Releases the lease (see <see cref="ReleaseAsync"/>); errors are logged, not thrown.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            // The key expires by its TTL anyway; only waiters take longer to get it.
            _logger.LogWarning(ex, "Releasing lease {Name} failed; it expires after its TTL", Name);
            End();
        }
    }

    internal void Start() => _renewal = Task.Run(RenewLoopAsync, CancellationToken.None);

    /// <summary>Retries a failing renewal now (the connection came back).</summary>
    internal void Kick()
    {
        lock (_kickLock)
        {
            _kick.TrySetResult();
            _kick = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private async Task RenewLoopAsync()
    {
        var stop = _stopRenewal.Token;
        var failing = false;
        while (!stop.IsCancellationRequested && Volatile.Read(ref _state) == Held)
        {
            Task kick;
            lock (_kickLock)
            {
                kick = _kick.Task;
            }

            var now = _time.GetUtcNow();
            var validUntil = ValidUntil;
            if (now >= validUntil)
            {
                MarkLost(LeaseLostReason.RenewalFailed, _lastError);
                return;
            }

            // While failing, retry often enough for several attempts before the deadline; always wake at the deadline
            // so the loss is signalled on time.
            var due = failing ? now + RetryDelay(validUntil - now) : _lastSentAt + _renewInterval;
            if (due > validUntil)
            {
                due = validUntil;
            }

            if (due > now)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop);
                await Task.WhenAny(Task.Delay(due - now, _time, wait.Token), kick).ConfigureAwait(false);
                await wait.CancelAsync().ConfigureAwait(false);
            }

            if (stop.IsCancellationRequested || _time.GetUtcNow() >= ValidUntil)
            {
                continue;
            }

            var outcome = await RenewOnceAsync(stop).ConfigureAwait(false);
            if (outcome is RenewOutcome.Lost or RenewOutcome.Stopped)
            {
                return;
            }

            failing = outcome != RenewOutcome.Renewed;
        }
    }

    private TimeSpan RetryDelay(TimeSpan remaining)
    {
        var delay = remaining / 5;
        var min = TimeSpan.FromMilliseconds(50);
        return delay < min ? min : delay > _renewInterval ? _renewInterval : delay;
    }

    private async Task<RenewOutcome> RenewOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return RenewOutcome.Stopped;
        }

        try
        {
            if (Volatile.Read(ref _state) != Held)
            {
                return RenewOutcome.Stopped;
            }

            var sentAt = _time.GetUtcNow();
            var remaining = ValidUntil - sentAt;
            if (remaining <= TimeSpan.Zero)
            {
                MarkLost(LeaseLostReason.RenewalFailed, _lastError);
                return RenewOutcome.Lost;
            }

            // A renewal that has not been acknowledged by the deadline is useless: we must assume the lease gone.
            using var deadline = new CancellationTokenSource(remaining, _time);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            KvWrongRevisionException? conflict;
            try
            {
                var revision = await _bucket.UpdateAsync(_key, _value, Revision, Ttl, attempt.Token).ConfigureAwait(false);
                Interlocked.Exchange(ref _revision, revision);
                Interlocked.Exchange(ref _validUntilTicks, (sentAt + Ttl).UtcTicks);
                _lastSentAt = sentAt;
                _lastError = null;
                return RenewOutcome.Renewed;
            }
            catch (KvWrongRevisionException ex)
            {
                conflict = ex;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return RenewOutcome.Stopped;
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                _lastError = ex;
                _logger.LogDebug(ex, "Renewing lease {Name} failed; retrying until {ValidUntil}", Name, ValidUntil);
                return RenewOutcome.Failed;
            }

            return await ResolveConflictAsync(conflict, attempt.Token, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The key is not at our revision: our own unacknowledged write, an expiry, a new holder or a removal.</summary>
    private async Task<RenewOutcome> ResolveConflictAsync(KvWrongRevisionException conflict, CancellationToken attempt, CancellationToken stop)
    {
        KvEntry? last;
        try
        {
            last = await _bucket.GetLastAsync(_key, KvReadMode.Leader, attempt).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return RenewOutcome.Stopped;
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            _lastError = ex;
            return RenewOutcome.Failed;
        }

        if (last is { IsValue: true } && !last.IsExpiredAt(_time.GetUtcNow()) && LeaseValue.HasNonce(last.Value.Span, _nonce))
        {
            // Ours: adopt the revision, keep the deadline we know for sure; the immediate retry extends it.
            Interlocked.Exchange(ref _revision, last.Revision);
            return RenewOutcome.Failed;
        }

        var reason = last switch
        {
            { IsValue: true } when !LeaseValue.HasNonce(last.Value.Span, _nonce) => LeaseLostReason.TakenOver,
            null or { IsValue: true } => LeaseLostReason.Expired,
            { MarkerReason: not KvMarkerReason.None } => LeaseLostReason.Expired,
            _ => LeaseLostReason.Removed,
        };
        MarkLost(reason, conflict);
        return RenewOutcome.Lost;
    }

    private void MarkLost(LeaseLostReason reason, Exception? error)
    {
        if (Interlocked.CompareExchange(ref _state, LostState, Held) != Held)
        {
            return;
        }

        _lostReason = reason;
        _logger.LogWarning("Lease {Name} (fencing token {Token}) lost: {Reason}", Name, FencingToken, reason);
        var args = new LeaseLostEventArgs(Name, FencingToken, reason, error);

        // Off the renewal loop and outside the gate: handlers may call ReleaseAsync or block.
        _ = Task.Run(() =>
        {
            End();
            try
            {
                Lost?.Invoke(this, args);
            }
#pragma warning disable CA1031 // A throwing user handler must not take the process down from the thread pool.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _logger.LogError(ex, "A Lost handler of lease {Name} threw", Name);
            }
        });
    }

    private void End()
    {
        try
        {
            _ended.Cancel();
        }
#pragma warning disable CA1031 // Callbacks registered on LostToken belong to the caller; their errors are theirs.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.LogError(ex, "A LostToken callback of lease {Name} threw", Name);
        }

        _onEnded(this);
    }

    internal static bool IsTransient(Exception ex) =>
        ex is NatsException or TimeoutException or OperationCanceledException or ObjectDisposedException or IOException;

    private enum RenewOutcome
    {
        Renewed,
        Failed,
        Lost,
        Stopped,
    }
}

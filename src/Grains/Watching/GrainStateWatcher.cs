using System.Collections.Concurrent;
using System.Globalization;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Grains.Internal;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CacheProvider.Grains;

/// <summary>
/// Silo-local service that watches a <see cref="NatsGrainStorage"/>'s keys with ONE bucket watch (headers only)
/// and calls back the activations (or local caches) registered for a state key when that key expires (marker), is
/// removed, or is written by someone other than this storage instance. Registration is a dictionary insert;
/// callbacks run on the thread pool, never on the watch loop. After a watch gap every watched key is read again and
/// only the keys that changed meanwhile are reported (as what happened to them).
/// The Orleans glue registers <c>(state key → IGrainContext)</c> in <c>OnActivateAsync</c> and calls
/// <c>IGrainContext.Deactivate(...)</c> from the callback.
/// </summary>
public sealed partial class GrainStateWatcher : IAsyncDisposable, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly NatsGrainStorage _storage;
    private readonly GrainStateWatcherOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, KeyWatch> _keys = new(StringComparer.Ordinal);
    private const int RecheckParallelism = 16;
    private readonly Action<string> _onResync;
    private readonly Lock _startLock = new();
    private Task? _starting;
    private KvBucket? _bucket;
    private CancellationTokenSource? _cts;
    private Task? _loop;
    private long _notifications;
    private long _resyncs;
    private long _events;
    private long _rechecks;
    private int _recheckRequested;

    /// <summary>
    /// Creates a watcher and attaches it to <paramref name="storage"/> (so its own writes are recognised), in place of
    /// the storage's own. In a silo use the storage's (<see cref="NatsGrainStorage.Watcher"/>, also the keyed
    /// <see cref="GrainStateWatcher"/> service named after the storage) instead: this constructor is for a storage used
    /// outside Orleans.
    /// </summary>
    public GrainStateWatcher(NatsGrainStorage storage, GrainStateWatcherOptions? options = null, ILogger<GrainStateWatcher>? logger = null)
        : this(storage, options, logger, attachIfNone: false)
    {
    }

    internal GrainStateWatcher(NatsGrainStorage storage, GrainStateWatcherOptions? options, ILogger? logger, bool attachIfNone)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
        _options = options ?? new GrainStateWatcherOptions();
        _logger = logger ?? NullLogger.Instance;
        _onResync = reason => Resync("watch resynchronised: " + reason);
        storage.AttachWatcher(this, attachIfNone);
    }

    /// <summary>Keys with at least one registration.</summary>
    public int WatchedKeys => _keys.Count;

    /// <summary>Callbacks queued so far.</summary>
    public long Notifications => Interlocked.Read(ref _notifications);

    /// <summary>Watch gaps so far (each followed by a re-check of every watched key).</summary>
    public long Resyncs => Interlocked.Read(ref _resyncs);

    /// <summary>Re-checks of every watched key completed after watch gaps.</summary>
    public long Rechecks => Interlocked.Read(ref _rechecks);

    /// <summary>Watch events received so far (for every key of the service, watched or not).</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>
    /// Opens the watch. It starts after the bucket's last revision at the time of the call, so every change made after
    /// this method returns is delivered even though the server consumer is created a moment later. Concurrent and
    /// repeated calls share one start.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_startLock)
        {
            if (_starting is { IsFaulted: false, IsCanceled: false } starting)
            {
                return starting;
            }

            return _starting = StartCoreAsync(cancellationToken);
        }
    }

    /// <summary>Whether the watch is open (or opening).</summary>
    internal bool IsStarted => Volatile.Read(ref _starting) is { IsFaulted: false, IsCanceled: false };

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var bucket = await _storage.GetBucketAsync(cancellationToken).ConfigureAwait(false);
        var status = await bucket.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        var cts = new CancellationTokenSource();
        _bucket = bucket;
        _cts = cts;
        _loop = Task.Run(() => RunAsync(bucket, status.StreamInfo.State.LastSeq, cts.Token), CancellationToken.None);
    }

    /// <summary>In a silo: the watch opens at <see cref="ServiceLifecycleStage.ApplicationServices"/> and closes when the silo stops.</summary>
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(OptionFormattingUtilities.Name<GrainStateWatcher>(_storage.Name), ServiceLifecycleStage.ApplicationServices, StartAsync, StopAsync);
    }

    /// <summary>Closes the watch.</summary>
    /// <param name="cancellationToken">
    /// Stops waiting for the watch loop to finish (a silo that is killed or out of stop time): the loop is already told to
    /// end and finishes on its own; this method then returns without throwing.
    /// </param>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        var cts = _cts;
        var loop = _loop;
        if (cts is null || loop is null)
        {
            return;
        }

        _cts = null;
        _loop = null;
        lock (_startLock)
        {
            _starting = null;
        }

        await cts.CancelAsync().ConfigureAwait(false);
        try
        {
            await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
        catch (OperationCanceledException)
        {
            // A hard stop must not fail the silo's lifecycle for a watch that is ending anyway; the source is disposed
            // once the loop has observed it.
            _ = loop.ContinueWith(static (_, source) => ((CancellationTokenSource)source!).Dispose(), cts, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return;
        }

        cts.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _storage.DetachWatcher(this);
    }

    /// <summary>Registers a callback for a state (key computed like the storage does).</summary>
    /// <param name="stateName">State name.</param>
    /// <param name="grainId">Grain.</param>
    /// <param name="knownETag">The ETag the activation holds: changes up to it are not reported.</param>
    /// <param name="callback">Runs on the thread pool; must be quick and thread-safe (e.g. <c>IGrainContext.Deactivate</c>).</param>
    /// <param name="state">Passed to the callback (avoids a closure per activation).</param>
    public GrainStateWatchRegistration Register(string stateName, GrainId grainId, string? knownETag, Action<GrainStateChange, object?> callback, object? state = null)
    {
        ulong.TryParse(knownETag, NumberStyles.None, CultureInfo.InvariantCulture, out var known);
        return Register(_storage.GetStateKey(stateName, grainId), known, callback, state);
    }

    /// <summary>Registers a callback for a KV key.</summary>
    public GrainStateWatchRegistration Register(string stateKey, ulong knownRevision, Action<GrainStateChange, object?> callback, object? state = null)
    {
        ArgumentNullException.ThrowIfNull(stateKey);
        ArgumentNullException.ThrowIfNull(callback);
        var registration = new GrainStateWatchRegistration(this, stateKey, callback, state);
        while (true)
        {
            var watch = _keys.GetOrAdd(stateKey, static _ => new KeyWatch());
            lock (watch)
            {
                if (watch.Removed)
                {
                    continue;
                }

                var current = watch.Registrations;
                var next = new GrainStateWatchRegistration[current.Length + 1];
                current.CopyTo(next, 0);
                next[^1] = registration;
                watch.Registrations = next;
                watch.Known = Math.Max(watch.Known, knownRevision);
                return registration;
            }
        }
    }

    /// <summary>Whether <paramref name="key"/> has a live registration whose state is <paramref name="state"/>.</summary>
    internal bool IsRegistered(string key, object state)
    {
        if (!_keys.TryGetValue(key, out var watch))
        {
            return false;
        }

        foreach (var registration in Volatile.Read(ref watch.Registrations))
        {
            if (ReferenceEquals(registration.State, state) && !registration.IsDisposed)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Ends every registration of <paramref name="key"/> whose state is <paramref name="state"/>.</summary>
    internal void Unregister(string key, object state)
    {
        if (!_keys.TryGetValue(key, out var watch))
        {
            return;
        }

        foreach (var registration in Volatile.Read(ref watch.Registrations))
        {
            if (ReferenceEquals(registration.State, state))
            {
                registration.Dispose();
            }
        }
    }

    internal void Unregister(GrainStateWatchRegistration registration)
    {
        if (!_keys.TryGetValue(registration.StateKey, out var watch))
        {
            return;
        }

        lock (watch)
        {
            var current = watch.Registrations;
            var index = Array.IndexOf(current, registration);
            if (index < 0)
            {
                return;
            }

            if (current.Length == 1)
            {
                watch.Registrations = [];
                watch.Removed = true;
                _keys.TryRemove(new KeyValuePair<string, KeyWatch>(registration.StateKey, watch));
                return;
            }

            var next = new GrainStateWatchRegistration[current.Length - 1];
            Array.Copy(current, 0, next, 0, index);
            Array.Copy(current, index + 1, next, index, current.Length - index - 1);
            watch.Registrations = next;
        }
    }

    internal StateOperationScope BeginOperation(string key)
    {
        if (!_keys.TryGetValue(key, out var watch))
        {
            return default;
        }

        lock (watch)
        {
            watch.InFlight++;
        }

        return new StateOperationScope(new OperationToken(this, watch));
    }

    internal void EndOperation(KeyWatch watch, ulong revision)
    {
        List<GrainStateChange>? fire = null;
        GrainStateWatchRegistration[] registrations;
        lock (watch)
        {
            watch.InFlight--;
            watch.Known = Math.Max(watch.Known, revision);
            if (watch.InFlight > 0 || watch.Deferred is not { Count: > 0 } deferred)
            {
                return;
            }

            foreach (var change in deferred)
            {
                if (change.Revision > watch.Known)
                {
                    (fire ??= []).Add(change);
                }
            }

            deferred.Clear();
            if (fire is null)
            {
                return;
            }

            watch.Known = Math.Max(watch.Known, fire[^1].Revision);
            registrations = watch.Registrations;
        }

        foreach (var change in fire)
        {
            Dispatch(registrations, change);
        }
    }

    private async Task RunAsync(KvBucket bucket, ulong startAfter, CancellationToken cancellationToken)
    {
        var resumeAfter = startAfter;
        var filter = _storage.KeyPrefix + ">";
        var firstAttempt = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (!firstAttempt)
                {
                    Resync("watch reopened");
                }

                firstAttempt = false;
                var options = new KvWatchOptions
                {
                    HeadersOnly = true,
                    ResumeAfterRevision = resumeAfter,
                    IncludeHistory = resumeAfter == 0,
                    IdleHeartbeat = _options.IdleHeartbeat,
                    OnResync = _onResync,
                };
                await foreach (var entry in bucket.WatchAsync(filter, options, cancellationToken).ConfigureAwait(false))
                {
                    resumeAfter = entry.Revision;
                    OnEntry(entry);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The loop must survive anything and try again.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogWatchFailed(_logger, _storage.Name, ex);
                try
                {
                    await Task.Delay(_options.RetryDelay, _storage.Time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void OnEntry(KvEntry entry)
    {
        Interlocked.Increment(ref _events);
        if (_keys.TryGetValue(entry.Key, out var watch))
        {
            Observe(watch, new GrainStateChange(entry.Key, KindOf(entry), entry.Revision, null));
        }
    }

    private static GrainStateChangeKind KindOf(KvEntry entry) => entry.MarkerReason switch
    {
        KvMarkerReason.Expired => GrainStateChangeKind.Expired,
        KvMarkerReason.None => entry.Operation == KvOperation.Put ? GrainStateChangeKind.WrittenElsewhere : GrainStateChangeKind.Removed,
        _ => GrainStateChangeKind.Removed,
    };

    /// <summary>A change seen on the key (by the watch or a re-check): reported unless it is ours or already known.</summary>
    private void Observe(KeyWatch watch, GrainStateChange change)
    {
        GrainStateWatchRegistration[] registrations;
        lock (watch)
        {
            if (change.Revision <= watch.Known)
            {
                return;
            }

            if (watch.InFlight > 0 && change.Kind != GrainStateChangeKind.Expired)
            {
                (watch.Deferred ??= []).Add(change);
                return;
            }

            watch.Known = change.Revision;
            registrations = watch.Registrations;
        }

        Dispatch(registrations, change);
    }

    private void Dispatch(GrainStateWatchRegistration[] registrations, GrainStateChange change)
    {
        foreach (var registration in registrations)
        {
            Interlocked.Increment(ref _notifications);
            ThreadPool.UnsafeQueueUserWorkItem(new CallbackWorkItem(registration, change, _logger), preferLocal: false);
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Grain state watch of {Provider} failed; reopening")]
    private static partial void LogWatchFailed(ILogger logger, string provider, Exception exception);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Grain state watch of {Provider}: resync ({Reason}), re-checking {Keys} keys")]
    private static partial void LogResync(ILogger logger, string provider, string reason, int keys);
}

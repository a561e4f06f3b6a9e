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
/// callbacks run on the thread pool, never on the watch loop. A watch gap sends
/// <see cref="GrainStateChangeKind.Resync"/> to every registration.
/// The Orleans glue registers <c>(state key → IGrainContext)</c> in <c>OnActivateAsync</c> and calls
/// <c>IGrainContext.Deactivate(...)</c> from the callback.
/// </summary>
public sealed partial class GrainStateWatcher : IAsyncDisposable, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly NatsGrainStorage _storage;
    private readonly GrainStateWatcherOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, KeyWatch> _keys = new(StringComparer.Ordinal);
    private readonly Action<string> _onResync;
    private CancellationTokenSource? _cts;
    private Task? _loop;
    private long _notifications;
    private long _resyncs;
    private long _events;

    /// <summary>Creates the watcher and attaches it to <paramref name="storage"/> (so its own writes are recognised).</summary>
    public GrainStateWatcher(NatsGrainStorage storage, GrainStateWatcherOptions? options = null, ILogger<GrainStateWatcher>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _storage = storage;
        _options = options ?? new GrainStateWatcherOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _onResync = reason => Resync("watch resynchronised: " + reason);
        storage.AttachWatcher(this);
    }

    /// <summary>Keys with at least one registration.</summary>
    public int WatchedKeys => _keys.Count;

    /// <summary>Callbacks queued so far.</summary>
    public long Notifications => Interlocked.Read(ref _notifications);

    /// <summary>Resyncs broadcast so far.</summary>
    public long Resyncs => Interlocked.Read(ref _resyncs);

    /// <summary>Watch events received so far (for every key of the service, watched or not).</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>
    /// Opens the watch. It starts after the bucket's last revision at the time of the call, so every change made after
    /// this method returns is delivered even though the server consumer is created a moment later.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_loop is not null)
        {
            return;
        }

        var bucket = await _storage.GetBucketAsync(cancellationToken).ConfigureAwait(false);
        var status = await bucket.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        var cts = new CancellationTokenSource();
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
        if (!_keys.TryGetValue(entry.Key, out var watch))
        {
            return;
        }

        var kind = entry.MarkerReason switch
        {
            KvMarkerReason.Expired => GrainStateChangeKind.Expired,
            KvMarkerReason.None => entry.Operation == KvOperation.Put ? GrainStateChangeKind.WrittenElsewhere : GrainStateChangeKind.Removed,
            _ => GrainStateChangeKind.Removed,
        };
        var change = new GrainStateChange(entry.Key, kind, entry.Revision, null);
        GrainStateWatchRegistration[] registrations;
        lock (watch)
        {
            if (entry.Revision <= watch.Known)
            {
                return;
            }

            if (watch.InFlight > 0 && kind != GrainStateChangeKind.Expired)
            {
                (watch.Deferred ??= []).Add(change);
                return;
            }

            watch.Known = entry.Revision;
            registrations = watch.Registrations;
        }

        Dispatch(registrations, change);
    }

    private void Resync(string reason)
    {
        Interlocked.Increment(ref _resyncs);
        LogResync(_logger, _storage.Name, reason, _keys.Count);
        foreach (var pair in _keys)
        {
            Dispatch(pair.Value.Registrations, new GrainStateChange(pair.Key, GrainStateChangeKind.Resync, 0, reason));
        }
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

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Grain state watch of {Provider}: resync ({Reason}), notifying {Keys} keys")]
    private static partial void LogResync(ILogger logger, string provider, string reason, int keys);
}

using CacheProvider.Grains.Internal;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Grains;

/// <summary>The re-check of every watched key after a watch gap.</summary>
public sealed partial class GrainStateWatcher
{
    /// <summary>
    /// A watch gap: anything may have changed meanwhile. Rather than tell everyone "maybe", every watched key is read
    /// again (a few at a time) and only keys that changed since their known revision are reported, as what happened;
    /// keys that cannot be read yet are tried again after <see cref="GrainStateWatcherOptions.RetryDelay"/>. Gaps
    /// during a re-check start another one after it.
    /// </summary>
    private void Resync(string reason)
    {
        Interlocked.Increment(ref _resyncs);
        LogResync(_logger, _storage.Name, reason, _keys.Count);
        if (Interlocked.Exchange(ref _recheckRequested, 1) == 0)
        {
            _ = Task.Run(() => RecheckLoopAsync(reason));
        }
    }

    private async Task RecheckLoopAsync(string reason)
    {
        while (Interlocked.Exchange(ref _recheckRequested, 2) == 1)
        {
            var token = _cts?.Token ?? CancellationToken.None;
            var pending = new List<KeyValuePair<string, KeyWatch>>(_keys);
            try
            {
                while (pending.Count > 0)
                {
                    var failed = new System.Collections.Concurrent.ConcurrentBag<KeyValuePair<string, KeyWatch>>();
                    var bucket = _bucket;
                    await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = RecheckParallelism, CancellationToken = token }, async (pair, ct) =>
                    {
                        if (!pair.Value.Removed && !await RecheckAsync(bucket, pair.Key, pair.Value, ct).ConfigureAwait(false))
                        {
                            failed.Add(pair);
                        }
                    }).ConfigureAwait(false);
                    if (failed.IsEmpty)
                    {
                        break;
                    }

                    // NATS is not reachable yet: nothing can be decided (nor changed through it); try those keys again.
                    LogRecheckRetry(_logger, _storage.Name, failed.Count, reason);
                    await Task.Delay(_options.RetryDelay, _storage.Time, token).ConfigureAwait(false);
                    pending = [.. failed];
                }
            }
            catch (OperationCanceledException)
            {
                Volatile.Write(ref _recheckRequested, 0);
                return;
            }

            Interlocked.Increment(ref _rechecks);
            if (Interlocked.CompareExchange(ref _recheckRequested, 0, 2) == 2)
            {
                return;
            }
        }
    }

    /// <summary>Reads one watched key and reports what changed since its known revision; false when it could not be read.</summary>
    private async ValueTask<bool> RecheckAsync(KvBucket? bucket, string key, KeyWatch watch, CancellationToken cancellationToken)
    {
        if (bucket is null)
        {
            return false;
        }

        KvEntry? last;
        try
        {
            last = await bucket.GetLastAsync(key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Retried by the caller; the other keys are still checked.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }

        ulong known;
        lock (watch)
        {
            known = watch.Known;
        }

        if (last is null)
        {
            // Gone without a trace (a purge, or a server that lost its data): removed, if there was anything to lose.
            if (known > 0)
            {
                ForceDispatch(watch, new GrainStateChange(key, GrainStateChangeKind.Removed, known, "not found after a watch gap"));
            }

            return true;
        }

        if (last.Revision < known)
        {
            // The stream went back in time (recreated, restored): what the activation holds is not what is stored.
            ForceDispatch(watch, new GrainStateChange(key, last.IsValue ? GrainStateChangeKind.WrittenElsewhere : GrainStateChangeKind.Removed, last.Revision, "revision went back after a watch gap"));
            return true;
        }

        var kind = last.IsValue && last.IsExpiredAt(_storage.Time.GetUtcNow()) ? GrainStateChangeKind.Expired : KindOf(last);
        Observe(watch, new GrainStateChange(key, kind, last.Revision, null));
        return true;
    }

    private void ForceDispatch(KeyWatch watch, GrainStateChange change)
    {
        GrainStateWatchRegistration[] registrations;
        lock (watch)
        {
            registrations = watch.Registrations;
        }

        Dispatch(registrations, change);
    }

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Grain state watch of {Provider}: {Keys} watched keys could not be re-checked after a gap ({Reason}); retrying")]
    private static partial void LogRecheckRetry(ILogger logger, string provider, int keys, string reason);
}

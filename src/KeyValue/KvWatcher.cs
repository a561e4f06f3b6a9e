using System.Runtime.CompilerServices;
using CacheProvider.KeyValue.Internal;

namespace CacheProvider.KeyValue;

/// <summary>
/// A watch whose server consumer already exists: every change after <see cref="KvBucket.StartWatchAsync"/>
/// returned is delivered, which a lazily started <see cref="KvBucket.WatchAsync(string, KvWatchOptions?, CancellationToken)"/>
/// cannot promise for writes made before its first read.
/// </summary>
public sealed class KvWatcher : IAsyncDisposable
{
    private readonly KvBucket _bucket;
    private readonly OrderedConsumer _consumer;
    private readonly KvWatchOptions _options;

    internal KvWatcher(KvBucket bucket, OrderedConsumer consumer, KvWatchOptions options)
    {
        _bucket = bucket;
        _consumer = consumer;
        _options = options;
        if (options.OnResync is { } onResync)
        {
            consumer.Reset += (_, reason) => onResync(reason);
        }
    }

    /// <summary>Revisions pending when the watch started (0 for updates-only watches).</summary>
    public ulong InitialPending => _consumer.InitialPending;

    /// <summary>Reads changes in revision order until cancelled.</summary>
    public async IAsyncEnumerable<KvEntry> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var delivery in _consumer.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var entry = _bucket.ToEntry(delivery);
            if (_options.IgnoreDeletes && !entry.IsValue)
            {
                continue;
            }

            yield return entry;
        }
    }

    /// <summary>Stops the watch and removes its server consumer.</summary>
    public ValueTask DisposeAsync() => _consumer.DisposeAsync();
}

using System.Buffers;
using System.ComponentModel;
using CacheProvider.Caching.Internal;

namespace CacheProvider.Caching;

/// <summary>Advanced members for integrations that keep another layer in step with this cache (CacheProvider.Hybrid).</summary>
public sealed partial class NatsDistributedCache
{
    /// <summary>
    /// <see cref="TryGetAsync"/> that also tells the KV revision of the entry it read: 0 when there is none (nothing is
    /// written to <paramref name="destination"/> then). A caller that also follows <see cref="WatchChangesByOthersAsync"/>
    /// can tell whether a value it read is older than a change it has already seen (a change's
    /// <see cref="CacheKeyChange.Revision"/> above the read's). A near-cache hit returns the revision stored with it.
    /// </summary>
    /// <param name="key">The cache key.</param>
    /// <param name="destination">Receives the value on a hit.</param>
    /// <param name="token">Cancels the read.</param>
    /// <returns>The revision of the value read, or 0 on a miss.</returns>
    [EditorBrowsable(EditorBrowsableState.Advanced)]
    public ValueTask<ulong> TryGetRevisionAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(destination);
        if (token.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ulong>(token);
        }

        var kvKey = _codec.Encode(key, out var hashed);
        if (TryNear(kvKey, out var near))
        {
            CacheMetrics.Hit(near: true);
            destination.Write(near.Value);
            return new ValueTask<ulong>(near.Revision);
        }

        return TryGetRevisionRemoteAsync(key, kvKey, hashed, destination, token);
    }

    /// <summary>
    /// Until the result is disposed, a Set of exactly <paramref name="key"/> made on this async flow (i.e. called
    /// synchronously inside the scope) writes nothing. For relaying another node's change into a local layer that would
    /// otherwise write it back (CacheProvider.Hybrid replays another node's <c>RemoveByTagAsync</c> this way).
    /// </summary>
    /// <param name="key">The cache key whose write is skipped.</param>
    /// <returns>A scope; dispose it to end the suppression.</returns>
    [EditorBrowsable(EditorBrowsableState.Advanced)]
    public SuppressedWrite SuppressWriteOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var previous = _suppressedWrite.Value;
        _suppressedWrite.Value = key;
        return new SuppressedWrite(_suppressedWrite, previous);
    }

    /// <summary>The scope returned by <see cref="SuppressWriteOf"/>.</summary>
    public readonly struct SuppressedWrite : IDisposable, IEquatable<SuppressedWrite>
    {
        private readonly AsyncLocal<string?> _slot;
        private readonly string? _previous;

        internal SuppressedWrite(AsyncLocal<string?> slot, string? previous) => (_slot, _previous) = (slot, previous);

        /// <summary>Ends the suppression (restores the scope that was active before).</summary>
        public void Dispose() => _slot.Value = _previous;

        /// <inheritdoc />
        public bool Equals(SuppressedWrite other) => ReferenceEquals(_slot, other._slot) && _previous == other._previous;

        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is SuppressedWrite other && Equals(other);

        /// <inheritdoc />
        public override int GetHashCode() => HashCode.Combine(_slot, _previous);

        /// <summary>Equality.</summary>
        public static bool operator ==(SuppressedWrite left, SuppressedWrite right) => left.Equals(right);

        /// <summary>Inequality.</summary>
        public static bool operator !=(SuppressedWrite left, SuppressedWrite right) => !left.Equals(right);
    }
}

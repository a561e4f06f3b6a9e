using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using CacheProvider.Nats;
using CacheProvider.Nats.KeyValue;

namespace CacheProvider.Caching.Internal;

/// <summary>
/// The cache's fast read (<see cref="CacheReadParser"/> on a direct get) for other stores that keep one value per KV
/// key, e.g. the ASP.NET Core session store: the reply is checked and copied while still in the receive buffer, with
/// no <see cref="NatsHeaders"/> or <see cref="KvEntry"/> built. Always returns a copy of the value on a hit; expired
/// entries, tombstones and markers are not hits but carry their revision (for a revision-checked write after them).
/// A reply from another stream (a mirror answering direct gets) falls back to a leader read, as the cache does.
/// </summary>
internal sealed class KvDirectReader(NatsConnection connection, string bucket)
{
    private readonly byte[] _stream = Encoding.ASCII.GetBytes("KV_" + bucket);
    private readonly string _directPrefix = $"$JS.API.DIRECT.GET.KV_{bucket}.$KV.{bucket}.";

    /// <summary>Reads the latest revision of <paramref name="kvKey"/> as of <paramref name="nowMs"/> (Unix ms).</summary>
    /// <param name="kvKey">Full KV key.</param>
    /// <param name="nowMs">Now, for the server TTL check.</param>
    /// <param name="leader">The bucket, for the leader read when a foreign stream answers.</param>
    /// <param name="timeout">Request timeout (null: the connection's default); avoids a linked token source per read.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<CacheRead> ReadAsync(string kvKey, long nowMs, KvBucket leader, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var read = await connection.RequestAsync<CacheRead, CacheReadParser>(
            _directPrefix + kvKey, null, ReadOnlySequence<byte>.Empty, new CacheReadParser(_stream, null, nowMs, null, wantCopy: true), timeout, cancellationToken).ConfigureAwait(false);
        if (read.Status != CacheReadStatus.ForeignStream)
        {
            return read;
        }

        var entry = await leader.GetLastAsync(kvKey, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            return new CacheRead(CacheReadStatus.NotFound, null, 0, 0, 0, 0, 0);
        }

        var deadline = entry.ExpiresAt?.ToUnixTimeMilliseconds() ?? 0;
        if (!entry.IsValue)
        {
            return new CacheRead(CacheReadStatus.NotFound, null, 0, entry.Revision, 0, 0, 0);
        }

        return deadline > 0 && nowMs >= deadline
            ? new CacheRead(CacheReadStatus.Expired, null, 0, entry.Revision, deadline, 0, 0)
            : new CacheRead(CacheReadStatus.Hit, entry.Value.ToArray(), entry.Value.Length, entry.Revision, deadline, 0, 0);
    }
}

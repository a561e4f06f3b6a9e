namespace CacheProvider.Bench.Harness;

/// <summary>Which client a measurement runs.</summary>
internal enum Side
{
    /// <summary>Our code (<c>CacheProvider.KeyValue</c> / the cache provider), in this process.</summary>
    Ours,

    /// <summary>NATS.Net's own KV store (<c>NATS.Client.KeyValueStore</c>), in this process: the same-language peer.</summary>
    NatsKv,

    /// <summary>The official NATS JS client, in a node child process.</summary>
    Js,

    /// <summary>A peer that is neither (e.g. MemoryCache, or our own other mode); the output's name says which.</summary>
    Other,
}

/// <summary>One printed line of a metric: its name and which direction is better.</summary>
/// <param name="Name">e.g. <c>kv_get_1KiB_64_inflight_ops_per_s</c>.</param>
/// <param name="HigherIsBetter">Throughput: true. Latency: false (the line then says "lower is better").</param>
internal sealed record MetricOutput(string Name, bool HigherIsBetter);

/// <summary>
/// A side-by-side measurement of our code and one or more peers against the same server. The runner calls
/// <see cref="SetupAsync"/> once, then <see cref="MeasureAsync"/> for a warm-up of each side and for several
/// repetitions rotating the order of the sides; it prints the median of each output, one line per peer
/// (<c>name: ours=… peer=… ratio=…</c>). A new metric is a new class listed in
/// <see cref="CacheProvider.Bench.Metrics.MetricRegistry"/>.
/// </summary>
internal interface IMetric : IAsyncDisposable
{
    /// <summary>Short name used by <c>--filter</c> (output names match too).</summary>
    string Name { get; }

    /// <summary>The values each measurement returns, in this order, and prints, one line each per peer.</summary>
    IReadOnlyList<MetricOutput> Outputs { get; }

    /// <summary>The sides ours is compared with (not <see cref="Side.Ours"/>), in the order their lines are printed.</summary>
    IReadOnlyList<Side> Peers { get; }

    /// <summary>
    /// What the line of <paramref name="peer"/> appends to an output's name to say what the peer is. Default: nothing for
    /// the JS client (the names its lines always had), " (peer: NatsKVStore)" for NATS.Net's KV store.
    /// </summary>
    string PeerLabel(Side peer) => peer switch
    {
        Side.NatsKv => " (peer: NatsKVStore)",
        Side.Js => string.Empty,
        _ => $" (peer: {peer})",
    };

    /// <summary>Connects every side and starts whatever they share (responders, buckets).</summary>
    /// <remarks>A peer whose own setup fails should not throw here: its <see cref="MeasureAsync"/> throws instead, so the other lines still print.</remarks>
    Task SetupAsync(BenchContext context, CancellationToken cancellationToken);

    /// <summary>One measurement of one side; values in the order of <see cref="Outputs"/>.</summary>
    /// <param name="side">Which client.</param>
    /// <param name="warmup">A shorter run whose result is discarded (JIT tiering, connection buffers, caches).</param>
    /// <param name="cancellationToken">The whole bench's deadline.</param>
    Task<double[]> MeasureAsync(Side side, bool warmup, CancellationToken cancellationToken);
}

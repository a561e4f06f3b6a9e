namespace CacheProvider.Bench.Harness;

/// <summary>Which client a measurement runs.</summary>
internal enum Side
{
    /// <summary>Our client (<c>CacheProvider.Nats</c>), in this process.</summary>
    Ours,

    /// <summary>The official NATS JS client, in a node child process.</summary>
    Peer,
}

/// <summary>One printed line of a metric: its name and which direction is better.</summary>
/// <param name="Name">e.g. <c>publish_128B_msgs_per_s</c>.</param>
/// <param name="HigherIsBetter">Throughput: true. Latency: false (the line then says "lower is better").</param>
internal sealed record MetricOutput(string Name, bool HigherIsBetter);

/// <summary>
/// A side-by-side measurement of our client and the JS peer against the same server. The runner calls
/// <see cref="SetupAsync"/> once, then <see cref="MeasureAsync"/> for a warm-up of each side and for several
/// repetitions alternating the sides; it prints the median of each output. A new metric is a new class listed in
/// <see cref="CacheProvider.Bench.Metrics.MetricRegistry"/>.
/// </summary>
internal interface IMetric : IAsyncDisposable
{
    /// <summary>Short name used by <c>--filter</c> (output names match too).</summary>
    string Name { get; }

    /// <summary>The values each measurement returns, in this order, and prints, one line each.</summary>
    IReadOnlyList<MetricOutput> Outputs { get; }

    /// <summary>Connects both sides and starts whatever they share (responders, buckets).</summary>
    Task SetupAsync(BenchContext context, CancellationToken cancellationToken);

    /// <summary>One measurement of one side; values in the order of <see cref="Outputs"/>.</summary>
    /// <param name="side">Which client.</param>
    /// <param name="warmup">A shorter run whose result is discarded (JIT tiering, connection buffers, caches).</param>
    /// <param name="cancellationToken">The whole bench's deadline.</param>
    Task<double[]> MeasureAsync(Side side, bool warmup, CancellationToken cancellationToken);
}

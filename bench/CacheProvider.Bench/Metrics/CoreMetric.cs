using CacheProvider.Bench.Harness;
using NATS.Client.Core;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// Base of the core-NATS metrics: the NATS.Net connection the product runs on (our own client is gone, so "ours" here
/// is the transport every KV line of ours stands on, not code of ours) in this process, the JS client as a long-lived
/// <c>core.mjs serve</c> child (so its warm-up counts like ours), and optionally the shared echo responder
/// (<c>responder.mjs</c>), which both sides' requests go to.
/// </summary>
internal abstract class CoreMetric : IMetric
{
    /// <summary>The subject the responder answers on.</summary>
    protected const string EchoSubject = "bench.echo";

    private NodeScript? _responder;

    public abstract string Name { get; }

    public abstract IReadOnlyList<MetricOutput> Outputs { get; }

    public IReadOnlyList<Side> Peers { get; } = [Side.Js];

    /// <summary>The NATS.Net connection, connected.</summary>
    protected NatsConnection Ours { get; private set; } = null!;

    /// <summary>The JS client, connected, taking commands.</summary>
    protected NodeScript Peer { get; private set; } = null!;

    /// <summary>Whether requests need the echo responder.</summary>
    protected virtual bool NeedsResponder => false;

    /// <summary>Generous per-command limit for the peer: a stuck child must not hang the bench.</summary>
    protected static TimeSpan PeerTimeout => TimeSpan.FromSeconds(60);

    public async Task SetupAsync(BenchContext context, CancellationToken cancellationToken)
    {
        if (NeedsResponder)
        {
            _responder = await NodeScript.StartAsync(context, "responder.mjs", ["--url", context.ServerUrl, "--subject", EchoSubject], cancellationToken).ConfigureAwait(false);
        }

        Ours = new NatsConnection(NatsOpts.Default with { Url = context.ServerUrl, Name = "bench-ours" });
        await Ours.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
        Peer = await NodeScript.StartAsync(context, "core.mjs", ["serve", "--url", context.ServerUrl], cancellationToken).ConfigureAwait(false);
    }

    public Task<double[]> MeasureAsync(Side side, bool warmup, CancellationToken cancellationToken) =>
        side is Side.Ours ? MeasureOursAsync(warmup, cancellationToken) : MeasurePeerAsync(warmup, cancellationToken);

    /// <summary>One run of our client.</summary>
    protected abstract Task<double[]> MeasureOursAsync(bool warmup, CancellationToken cancellationToken);

    /// <summary>One run of the JS client (a command to <c>core.mjs serve</c>).</summary>
    protected abstract Task<double[]> MeasurePeerAsync(bool warmup, CancellationToken cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Peer is not null)
        {
            await Peer.DisposeAsync().ConfigureAwait(false);
        }

        if (Ours is not null)
        {
            await Ours.DisposeAsync().ConfigureAwait(false);
        }

        if (_responder is not null)
        {
            await _responder.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A payload that is not all zeros, the same bytes js/bench/lib.mjs sends.</summary>
    protected static byte[] Payload(int size)
    {
        var b = new byte[size];
        for (var i = 0; i < size; i++)
        {
            b[i] = (byte)('a' + (i % 26));
        }

        return b;
    }
}

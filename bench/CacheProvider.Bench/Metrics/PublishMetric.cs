using System.Diagnostics;
using CacheProvider.Bench.Harness;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// Fire-and-forget publish throughput: N messages of 128 B to a subject nobody subscribes to, then one flush
/// (PING/PONG), so the clock stops when the server has processed every message. Both sides measure exactly that.
/// </summary>
internal sealed class PublishMetric : CoreMetric
{
    private const string Subject = "bench.pub";
    private const int Size = 128;
    private const int Count = 1_000_000;
    private const int WarmupCount = 200_000;
    private readonly byte[] _payload = Payload(Size);

    public override string Name => "publish_128B";

    public override IReadOnlyList<MetricOutput> Outputs { get; } = [new("publish_128B_msgs_per_s", HigherIsBetter: true)];

    protected override async Task<double[]> MeasureOursAsync(bool warmup, CancellationToken cancellationToken)
    {
        var count = warmup ? WarmupCount : Count;
        var payload = _payload.AsMemory();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            // Completes synchronously unless the outgoing buffer is full; then it waits, as it should.
            await Ours.PublishAsync(Subject, payload, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        // PING/PONG: the server answers after it has processed everything sent before.
        await Ours.PingAsync(cancellationToken).ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return [count / seconds];
    }

    protected override async Task<double[]> MeasurePeerAsync(bool warmup, CancellationToken cancellationToken)
    {
        var result = await Peer.SendAsync(
            new { op = "publish", subject = Subject, count = warmup ? WarmupCount : Count, size = Size },
            PeerTimeout,
            cancellationToken).ConfigureAwait(false);
        return [result.GetProperty("msgs_per_s").GetDouble()];
    }
}

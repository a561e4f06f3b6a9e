using System.Diagnostics;
using CacheProvider.Bench.Harness;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// Sequential request/reply latency (one request in flight) to the shared node echo responder, 128 B each way.
/// Every request is timed on its own; p50 and p99 are nearest-rank over one run's samples.
/// </summary>
internal sealed class RequestLatencyMetric : CoreMetric
{
    private const int Size = 128;
    private const int Count = 5_000;
    private const int WarmupCount = 2_000;
    private readonly byte[] _payload = Payload(Size);

    public override string Name => "request_reply_latency";

    public override IReadOnlyList<MetricOutput> Outputs { get; } =
    [
        new("request_reply_latency_p50_us", HigherIsBetter: false),
        new("request_reply_latency_p99_us", HigherIsBetter: false),
    ];

    protected override bool NeedsResponder => true;

    protected override async Task<double[]> MeasureOursAsync(bool warmup, CancellationToken cancellationToken)
    {
        var count = warmup ? WarmupCount : Count;
        var samples = new long[count];
        var payload = _payload.AsMemory();
        for (var i = 0; i < count; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            await Ours.RequestAsync<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>>(EchoSubject, payload, cancellationToken: cancellationToken).ConfigureAwait(false);
            samples[i] = Stopwatch.GetTimestamp() - t0;
        }

        Array.Sort(samples);
        return [Latency.PercentileMicros(samples, 50), Latency.PercentileMicros(samples, 99)];
    }

    protected override async Task<double[]> MeasurePeerAsync(bool warmup, CancellationToken cancellationToken)
    {
        var result = await Peer.SendAsync(
            new { op = "request", subject = EchoSubject, count = warmup ? WarmupCount : Count, size = Size },
            PeerTimeout,
            cancellationToken).ConfigureAwait(false);
        return [result.GetProperty("p50_us").GetDouble(), result.GetProperty("p99_us").GetDouble()];
    }
}

using System.Diagnostics;
using CacheProvider.Bench.Harness;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// Request/reply throughput with 64 requests in flight (64 loops each awaiting its own request), to the shared
/// node echo responder, 128 B each way.
/// </summary>
internal sealed class RequestInflightMetric : CoreMetric
{
    private const int Size = 128;
    private const int InFlight = 64;
    private const int Count = 50_000;
    private const int WarmupCount = 10_000;
    private readonly byte[] _payload = Payload(Size);

    public override string Name => "request_reply_64_inflight";

    public override IReadOnlyList<MetricOutput> Outputs { get; } = [new("request_reply_64_inflight_per_s", HigherIsBetter: true)];

    protected override bool NeedsResponder => true;

    protected override async Task<double[]> MeasureOursAsync(bool warmup, CancellationToken cancellationToken)
    {
        var count = warmup ? WarmupCount : Count;
        var issued = 0;
        var payload = _payload.AsMemory();
        async Task Worker()
        {
            while (Interlocked.Increment(ref issued) <= count)
            {
                await Ours.RequestAsync<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>>(EchoSubject, payload, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }

        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, InFlight).Select(_ => Worker())).ConfigureAwait(false);
        return [count / Stopwatch.GetElapsedTime(start).TotalSeconds];
    }

    protected override async Task<double[]> MeasurePeerAsync(bool warmup, CancellationToken cancellationToken)
    {
        var result = await Peer.SendAsync(
            new { op = "request-inflight", subject = EchoSubject, count = warmup ? WarmupCount : Count, size = Size, inflight = InFlight },
            PeerTimeout,
            cancellationToken).ConfigureAwait(false);
        return [result.GetProperty("msgs_per_s").GetDouble()];
    }
}

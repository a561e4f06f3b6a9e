using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace CacheProvider.Samples.Expiry;

/// <summary>
/// Part 1, the classic per-message TTL walkthrough on a plain stream: three messages, one with <c>Nats-TTL: 3s</c>,
/// one with <c>6s</c> and one without (the stream's max_age of 8 s applies). An ordered consumer shows each message
/// being stored and, later, the limit marker the server writes when it expires (ADR-48).
/// </summary>
internal sealed partial class StreamWalkthrough(INatsJSContext js, Report report, DemoNames names)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(8);

    // At most the shortest message TTL: on a stream keeping several messages per subject the server raises
    // shorter TTLs to the marker TTL, which would blur the walkthrough.
    private static readonly TimeSpan MarkerTtl = TimeSpan.FromSeconds(2);

    private sealed record Delivered(string Subject, ulong Sequence, DateTimeOffset Stored, NatsHeaders? Headers, int PayloadLength);

    public async Task<IReadOnlyList<ExpiryResult>> RunAsync(CancellationToken cancellationToken)
    {
        report.Heading("Part 1 - a stream with per-message TTL: three messages, three lifetimes");
        var messages = new (string Subject, string? Ttl)[]
        {
            ($"{names.SubjectPrefix}.ttl-3s", "3s"),
            ($"{names.SubjectPrefix}.ttl-6s", "6s"),
            ($"{names.SubjectPrefix}.no-ttl", null),
        };

        await js.CreateStreamAsync(new StreamConfig(names.Stream, [$"{names.SubjectPrefix}.>"])
        {
            MaxAge = MaxAge,
            AllowMsgTTL = true,
            SubjectDeleteMarkerTTL = MarkerTtl,
            Storage = StreamConfigStorage.File,
        }, cancellationToken).ConfigureAwait(false);
        report.Note($"stream {names.Stream}: subjects {names.SubjectPrefix}.>, max_age {Report.Seconds(MaxAge)}, allow_msg_ttl, subject_delete_marker_ttl {Report.Seconds(MarkerTtl)}");
        report.Note("due = the time the server stored the message + its TTL; late = marker time - due");
        report.Plain("");

        try
        {
            // NATS.Net's ordered consumer, "deliver all": it sees every message and every marker, whenever it starts
            // reading (the markers stay MarkerTtl, long after the pump is reading).
            var consumer = await js.CreateOrderedConsumerAsync(names.Stream, new NatsJSOrderedConsumerOpts
            {
                FilterSubjects = [$"{names.SubjectPrefix}.>"],
                DeliverPolicy = ConsumerConfigDeliverPolicy.All,
            }, cancellationToken).ConfigureAwait(false);
            await using var pump = new EventPump<Delivered>(Deliveries(consumer, cancellationToken), cancellationToken);

            foreach (var (subject, ttl) in messages)
            {
                NatsHeaders? headers = null;
                if (ttl is not null)
                {
                    headers = new NatsHeaders { { "Nats-TTL", ttl } }; // exactly this case: the server ignores "nats-ttl"
                }

                var body = Encoding.UTF8.GetBytes(ttl is null ? "lives until the stream's max_age" : $"lives {ttl}");
                var ack = await js.PublishAsync(subject, body, headers: headers, cancellationToken: cancellationToken).ConfigureAwait(false);
                ack.EnsureSuccess();
            }

            return await FollowAsync(pump, messages.Length, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await names.CleanupAsync(() => js.DeleteStreamAsync(names.Stream, CancellationToken.None).AsTask()).ConfigureAwait(false);
        }
    }

    private async Task<IReadOnlyList<ExpiryResult>> FollowAsync(EventPump<Delivered> pump, int published, CancellationToken cancellationToken)
    {
        var tracker = new ExpiryTracker("stream");
        var stored = 0;
        while (stored < published || !tracker.AllArrived)
        {
            var now = DateTimeOffset.UtcNow;
            var wait = stored < published ? TimeSpan.FromSeconds(5) : tracker.WaitBudget(now);
            var msg = await pump.ReadAsync(wait, cancellationToken).ConfigureAwait(false);
            if (msg is null)
            {
                throw stored < published
                    ? new DemoFailedException($"stream: the consumer delivered only {stored} of the {published} published messages within 5 s")
                    : tracker.Overdue(DateTimeOffset.UtcNow, report);
            }

            var headers = msg.Headers;
            var reason = headers is not null && headers.TryGetValue("Nats-Marker-Reason", out var r) ? r.ToString() : null;
            var ttlHeader = headers is not null && headers.TryGetValue("Nats-TTL", out var t) ? t.ToString() : null;
            if (reason is null)
            {
                stored++;
                var (ttl, source) = ttlHeader is not null && TryParseTtl(ttlHeader, out var parsed)
                    ? (parsed, "Nats-TTL")
                    : (MaxAge, "max_age");
                var due = msg.Stored + ttl;
                tracker.Expect(msg.Subject, ttl, source, due);
                var what = source == "max_age" ? $"no Nats-TTL -> max_age {Report.Seconds(MaxAge)}" : $"Nats-TTL: {ttlHeader}";
                report.Event($"stored   seq {msg.Sequence,-3} {msg.Subject,-20} {what,-28} due {report.Rel(due)}");
                continue;
            }

            var result = tracker.Arrived(msg.Subject, reason, msg.Stored);
            report.Event($"EXPIRED  seq {msg.Sequence,-3} {msg.Subject,-20} {"Nats-Marker-Reason: " + reason,-28} due {report.Rel(result.Deadline)}  late {Report.Ms(result.Lateness)}");
            report.Detail($"(the marker: {msg.PayloadLength} B payload, Nats-TTL: {ttlHeader ?? "-"} so it removes itself, Nats-Rollup: {(headers!.TryGetValue("Nats-Rollup", out var roll) ? roll.ToString() : "-")})");
            if (reason != "MaxAge")
            {
                throw new DemoFailedException($"stream: marker for '{msg.Subject}' has reason '{reason}', expected MaxAge");
            }
        }

        return tracker.Results;
    }

    private static async IAsyncEnumerable<Delivered> Deliveries(INatsJSConsumer consumer, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var m in consumer.ConsumeAsync<byte[]>(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var meta = m.Metadata ?? throw new DemoFailedException($"stream: a message on {m.Subject} came without JetStream metadata");
            yield return new Delivered(m.Subject, meta.Sequence.Stream, meta.Timestamp, m.Headers, m.Data?.Length ?? 0);
        }
    }

    /// <summary>What the server stores in Nats-TTL: integer seconds or a Go duration such as <c>6s</c> or <c>1m0s</c>.</summary>
    private static bool TryParseTtl(string text, out TimeSpan ttl)
    {
        ttl = TimeSpan.Zero;
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var whole))
        {
            ttl = TimeSpan.FromSeconds(whole);
            return true;
        }

        var parts = GoDuration().Matches(text);
        if (parts.Count == 0 || parts.Sum(p => p.Length) != text.Length)
        {
            return false;
        }

        foreach (Match p in parts)
        {
            var value = double.Parse(p.Groups[1].Value, CultureInfo.InvariantCulture);
            ttl += p.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(value),
                "m" => TimeSpan.FromMinutes(value),
                "ms" => TimeSpan.FromMilliseconds(value),
                _ => TimeSpan.FromSeconds(value),
            };
        }

        return true;
    }

    [GeneratedRegex(@"([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)")]
    private static partial Regex GoDuration();
}

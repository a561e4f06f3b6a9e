using System.Text;

namespace CacheProvider.Nats.Tests.Fuzz;

internal enum FuzzOp
{
    Info,
    Msg,
    Ping,
    Pong,
    Ok,
    Err,
}

/// <summary>The status line and name/value pairs a header block was generated from.</summary>
internal sealed record HeaderSpec(int Code, string? Description, IReadOnlyList<KeyValuePair<string, string>> Items)
{
    public static HeaderSpec From(NatsHeaders parsed) => new(parsed.Code, parsed.Description, [.. parsed]);

    public bool SameAs(HeaderSpec other) =>
        other.Code == Code && other.Description == Description && other.Items.SequenceEqual(Items);

    public override string ToString() => $"{Code} '{Description}' [{string.Join(", ", Items.Select(p => p.Key + "=" + p.Value))}]";
}

/// <summary>
/// One operation, either as the generator meant it or as the handler received it. Byte arrays rather than
/// strings because mutated frames carry arbitrary bytes and the differential check must be exact.
/// </summary>
internal sealed record FuzzEvent(FuzzOp Op)
{
    public byte[] Subject { get; init; } = [];
    public long Sid { get; init; }
    public byte[] Reply { get; init; } = [];
    public byte[] Headers { get; init; } = [];
    public byte[] Payload { get; init; } = [];

    /// <summary>INFO JSON or the -ERR message.</summary>
    public byte[] Text { get; init; } = [];

    /// <summary>Generated side: what HeaderCodec.Parse must return. Received side: what it returned.</summary>
    public HeaderSpec? HeaderSpec { get; init; }

    /// <summary>Generated side: INFO connect_urls. Received side: what SocketConnector.ParseInfo returned.</summary>
    public IReadOnlyList<string>? ConnectUrls { get; init; }

    /// <summary>Received side: HeaderCodec.Parse or ParseInfo rejected the block (allowed only for mutated frames).</summary>
    public bool Rejected { get; init; }

    public bool Matches(FuzzEvent received, out string why)
    {
        why = string.Empty;
        if (received.Op != Op)
        {
            why = $"op {received.Op} != {Op}";
        }
        else if (!received.Subject.AsSpan().SequenceEqual(Subject) || received.Sid != Sid || !received.Reply.AsSpan().SequenceEqual(Reply))
        {
            why = "subject/sid/reply differ";
        }
        else if (!received.Headers.AsSpan().SequenceEqual(Headers) || !received.Payload.AsSpan().SequenceEqual(Payload))
        {
            why = "header block or payload bytes differ";
        }
        else if (!received.Text.AsSpan().SequenceEqual(Text))
        {
            why = "INFO/-ERR text differs";
        }
        else if (received.Rejected)
        {
            why = "a valid header block or INFO was rejected";
        }
        else if (HeaderSpec is not null && (received.HeaderSpec is null || !received.HeaderSpec.SameAs(HeaderSpec)))
        {
            why = $"parsed headers differ: got {received.HeaderSpec?.ToString() ?? "none"}";
        }
        else if (Op == FuzzOp.Info && !(received.ConnectUrls ?? []).SequenceEqual(ConnectUrls ?? []))
        {
            why = "INFO connect_urls differ";
        }

        return why.Length == 0;
    }

    public override string ToString() => Op switch
    {
        FuzzOp.Msg => $"MSG subject={Show(Subject)} sid={Sid} reply={Show(Reply)} headers={Show(Headers)} payload[{Payload.Length}]",
        FuzzOp.Info or FuzzOp.Err => $"{Op} {Show(Text)}",
        _ => Op.ToString(),
    };

    private static string Show(byte[] bytes) =>
        Encoding.UTF8.GetString(bytes.AsSpan(0, Math.Min(bytes.Length, 120))).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}

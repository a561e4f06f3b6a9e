namespace CacheProvider.Nats;

/// <summary>A message received from the server.</summary>
public readonly struct NatsMsg
{
    /// <summary>Creates a message.</summary>
    public NatsMsg(string subject, string? replyTo, NatsHeaders? headers, ReadOnlyMemory<byte> data)
    {
        Subject = subject;
        ReplyTo = replyTo;
        Headers = headers;
        Data = data;
    }

    /// <summary>The subject it was published to.</summary>
    public string Subject { get; }

    /// <summary>Where the publisher expects a reply, if anywhere.</summary>
    public string? ReplyTo { get; }

    /// <summary>Headers, or null when the message had none.</summary>
    public NatsHeaders? Headers { get; }

    /// <summary>The payload; owned by this message.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The status code of the headers' status line (0 when none).</summary>
    public int StatusCode => Headers?.Code ?? 0;
}

namespace CacheProvider.Tokens;

/// <summary>A token that this caller consumed: nobody else can consume it again.</summary>
public sealed record ConsumedToken
{
    /// <summary>What the token was for.</summary>
    public required string Purpose { get; init; }

    /// <summary>The payload given when it was issued.</summary>
    public ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>When it was issued (server time).</summary>
    public DateTimeOffset IssuedAt { get; init; }

    /// <summary>When it would have expired.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
}

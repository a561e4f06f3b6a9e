namespace CacheProvider.Tokens;

/// <summary>A token that was issued. <see cref="ToString"/> does not reveal the token value.</summary>
public sealed record IssuedToken
{
    /// <summary>What the token is for (e.g. <c>password-reset</c>).</summary>
    public required string Purpose { get; init; }

    /// <summary>The secret token value to hand out (URL-safe).</summary>
    public required string Token { get; init; }

    /// <summary>The KV revision of the token.</summary>
    public ulong Revision { get; init; }

    /// <summary>When it stops being valid (local clock at issue time plus the TTL).</summary>
    public DateTimeOffset ExpiresAt { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"IssuedToken {{ Purpose = {Purpose}, Token = ***, ExpiresAt = {ExpiresAt:O} }}";
}

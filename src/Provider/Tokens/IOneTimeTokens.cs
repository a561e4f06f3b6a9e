namespace CacheProvider.Tokens;

/// <summary>
/// One-time tokens (password reset links, pairing codes) on a NATS KV bucket with per-key TTL: issued create-only,
/// consumed exactly once, and simply not found once expired.
/// </summary>
public interface IOneTimeTokens
{
    /// <summary>Issues a new random token carrying <paramref name="payload"/>.</summary>
    /// <param name="purpose">What the token is for; tokens of different purposes never match each other.</param>
    /// <param name="payload">Small payload returned on consumption (at most <see cref="OneTimeTokenOptions.MaxPayloadBytes"/>).</param>
    /// <param name="ttl">Lifetime; default <see cref="OneTimeTokenOptions.DefaultTtl"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ArgumentException">Empty purpose or payload too large.</exception>
    /// <exception cref="ArgumentOutOfRangeException">TTL below 1 s.</exception>
    Task<IssuedToken> IssueAsync(string purpose, ReadOnlyMemory<byte> payload, TimeSpan? ttl = null, CancellationToken cancellationToken = default);

    /// <summary>Issues a token with a value chosen by the caller (e.g. a short pairing code), only if no live token has it.</summary>
    /// <returns>The token, or null when a live token with that value exists.</returns>
    Task<IssuedToken?> TryIssueAsync(string purpose, string token, ReadOnlyMemory<byte> payload, TimeSpan? ttl = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Consumes a token: read, then compare-and-set removal. Under any number of concurrent consumers exactly one gets
    /// the payload.
    /// </summary>
    /// <returns>The payload, or null when the token is unknown, expired or already consumed.</returns>
    Task<ConsumedToken?> ConsumeAsync(string purpose, string token, CancellationToken cancellationToken = default);

    /// <summary>Invalidates a token without consuming it.</summary>
    /// <returns>True when a live token was removed.</returns>
    Task<bool> RevokeAsync(string purpose, string token, CancellationToken cancellationToken = default);
}

namespace CacheProvider.KeyValue;

/// <summary>Settings of a <see cref="KvContext"/>.</summary>
public sealed record KvContextOptions
{
    /// <summary>The JetStream domain (leaf nodes, hubs); null for the connection's own account.</summary>
    public string? Domain { get; init; }

    /// <summary>Timeout of one request to the server; null = the connection's <c>NatsOpts.RequestTimeout</c>.</summary>
    public TimeSpan? RequestTimeout { get; init; }

    /// <summary>
    /// How long idempotent reads (stream info, leader and direct gets, KV gets) keep retrying after a timeout, no
    /// responders or a 503 — what a replicated stream answers while it elects a leader. Zero turns retries off. Default 10 s.
    /// </summary>
    public TimeSpan ReadRetryBudget { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long plain writes keep retrying after failures that prove nothing was stored — no responders or a 503, what a
    /// replicated stream answers while it elects a leader or while its new leader's interest spreads. Writes that got no
    /// reply are never repeated by this budget. Zero turns retries off. Default 2 s. Writes through
    /// <see cref="KvPutOptions"/> have their own budget.
    /// </summary>
    public TimeSpan WriteRetryBudget { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Clock for the client-side expiry check of the buckets this context creates or binds
    /// (<see cref="KvBucket.TimeProvider"/>); replaceable so expiry can be tested without waiting.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

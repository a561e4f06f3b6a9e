using System.Buffers.Text;
using System.Security.Cryptography;
using CacheProvider.Internal;
using NATS.Client.Core;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CacheProvider.Tokens;

/// <summary>
/// One-time tokens on NATS KV: key <c>[prefix.]purpose.token</c>, issued with create-with-TTL, consumed by a leader read
/// and a compare-and-set purge whose tombstone removes itself (so consumed tokens leave nothing behind). Token values
/// are secrets: they are never logged. Thread-safe.
/// </summary>
public sealed class OneTimeTokenStore : IOneTimeTokens
{
    private readonly OneTimeTokenOptions _options;
    private readonly PatternBucketProvider _bucket;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _tombstoneTtl;

    /// <summary>Creates a store on <paramref name="connection"/> (not owned).</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public OneTimeTokenStore(INatsConnection connection, OneTimeTokenOptions options, ILogger<OneTimeTokenStore>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _tombstoneTtl = PatternTtl.Normalize(options.LimitMarkerTtl, nameof(options.LimitMarkerTtl));
        _bucket = new PatternBucketProvider(connection, options.ToBucketConfig(), _time, _logger);
    }

    /// <summary>Creates a store from DI options.</summary>
    public OneTimeTokenStore(INatsConnection connection, IOptions<OneTimeTokenOptions> options, ILogger<OneTimeTokenStore>? logger = null, TimeProvider? timeProvider = null)
        : this(connection, (options ?? throw new ArgumentNullException(nameof(options))).Value, logger, timeProvider)
    {
    }

    /// <inheritdoc />
    public async Task<IssuedToken> IssueAsync(string purpose, ReadOnlyMemory<byte> payload, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        // A collision of 128+ random bits does not happen; the loop only guards against a broken random source.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(_options.TokenBytes));
            if (await TryIssueAsync(purpose, token, payload, ttl, cancellationToken).ConfigureAwait(false) is { } issued)
            {
                return issued;
            }
        }

        throw new InvalidOperationException("Three random tokens in a row already existed: the random number generator is broken");
    }

    /// <inheritdoc />
    public async Task<IssuedToken?> TryIssueAsync(string purpose, string token, ReadOnlyMemory<byte> payload, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        var key = Key(purpose, token);
        var lifetime = PatternTtl.Normalize(ttl ?? _options.DefaultTtl, nameof(ttl));
        if (payload.Length > _options.MaxPayloadBytes)
        {
            throw new ArgumentException($"Token payload is {payload.Length} bytes; at most {_options.MaxPayloadBytes} are allowed", nameof(payload));
        }

        var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
        var issuedAt = _time.GetUtcNow();
        try
        {
            var revision = await bucket.CreateAsync(key, payload, lifetime, cancellationToken).ConfigureAwait(false);
            _logger.LogDebug("Issued a {Purpose} token valid for {Ttl}", purpose, lifetime);
            return new IssuedToken { Purpose = purpose, Token = token, Revision = revision, ExpiresAt = issuedAt + lifetime };
        }
        catch (KvKeyExistsException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task<ConsumedToken?> ConsumeAsync(string purpose, string token, CancellationToken cancellationToken = default)
    {
        var key = Key(purpose, token);
        var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);

        // Leader read: a replica that has not seen a consumption yet would only make us lose the CAS below, but a
        // replica that has not seen the issue would report a fresh token as unknown.
        var entry = await bucket.GetAsync(key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            _logger.LogDebug("A {Purpose} token was not found (unknown, expired or used)", purpose);
            return null;
        }

        try
        {
            // Only the consumer whose purge still expects the issued revision succeeds; everyone else sees it changed.
            await bucket.PurgeAsync(key, _tombstoneTtl, entry.Revision, cancellationToken).ConfigureAwait(false);
        }
        catch (KvWrongRevisionException)
        {
            _logger.LogDebug("A {Purpose} token was consumed concurrently by someone else", purpose);
            return null;
        }

        return new ConsumedToken { Purpose = purpose, Payload = entry.Value, IssuedAt = entry.Created, ExpiresAt = entry.ExpiresAt };
    }

    /// <inheritdoc />
    public async Task<bool> RevokeAsync(string purpose, string token, CancellationToken cancellationToken = default)
    {
        var key = Key(purpose, token);
        var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
        var entry = await bucket.GetAsync(key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            return false;
        }

        try
        {
            await bucket.PurgeAsync(key, _tombstoneTtl, entry.Revision, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (KvWrongRevisionException)
        {
            return false;
        }
    }

    private string Key(string purpose, string token) =>
        PatternKeyCodec.Join(_options.KeyPrefix, PatternKeyCodec.Encode(purpose, allowDots: false, nameof(purpose)))
        + "." + PatternKeyCodec.Encode(token, allowDots: false, nameof(token));
}

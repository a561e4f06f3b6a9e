using NATS.Client.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CacheProvider.Caching;

/// <summary>
/// Healthy when the connection is up and the bucket is fit for a cache (history 1, markers on, server ≥ 2.12.1);
/// Degraded while reconnecting; Unhealthy when the server cannot be reached or the bucket is misconfigured.
/// </summary>
public sealed class NatsDistributedCacheHealthCheck : IHealthCheck
{
    private readonly NatsDistributedCache _cache;
    private readonly INatsConnection _connection;

    /// <summary>Creates the check.</summary>
    public NatsDistributedCacheHealthCheck(NatsDistributedCache cache, INatsConnection connection)
    {
        _cache = cache;
        _connection = connection;
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["bucket"] = _cache.Bucket, ["state"] = _connection.ConnectionState.ToString() };
        if (_connection.ConnectionState == NatsConnectionState.Reconnecting)
        {
            return HealthCheckResult.Degraded("Reconnecting to NATS", data: data);
        }

        try
        {
            var bucket = await _cache.EnsureBucketAsync(cancellationToken).ConfigureAwait(false);
            await _connection.PingAsync(cancellationToken).ConfigureAwait(false);
            data["server"] = _connection.ServerInfo?.Version ?? "?";
            data["near_cache_active"] = _cache.NearCacheActive;
            data["limit_marker_ttl"] = bucket.Info.Config.SubjectDeleteMarkerTTL.ToString();
            return HealthCheckResult.Healthy("NATS cache ready", data);
        }
        catch (NatsCacheConfigurationException ex)
        {
            return HealthCheckResult.Unhealthy(ex.Message, ex, data);
        }
        catch (NatsException ex)
        {
            return HealthCheckResult.Unhealthy("NATS unreachable: " + ex.Message, ex, data);
        }
    }
}

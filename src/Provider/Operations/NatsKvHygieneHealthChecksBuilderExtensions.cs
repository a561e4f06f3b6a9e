using CacheProvider.Connection;
using NATS.Client.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CacheProvider.Operations;

/// <summary>Registers <see cref="NatsKvHygieneHealthCheck"/>.</summary>
public static class NatsKvHygieneHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds the check <c>nats-kv-hygiene</c> for <paramref name="buckets"/> (e.g. the cache's bucket), using the
    /// registered NATS.Net <see cref="INatsConnection"/>. Unreachable servers report Unhealthy; findings report Degraded.
    /// </summary>
    public static IHealthChecksBuilder AddNatsKvHygiene(this IHealthChecksBuilder builder, params string[] buckets) =>
        builder.AddNatsKvHygiene("nats-kv-hygiene", null, buckets);

    /// <summary>Adds the check under <paramref name="name"/> with custom <paramref name="thresholds"/>.</summary>
    public static IHealthChecksBuilder AddNatsKvHygiene(this IHealthChecksBuilder builder, string name, KvAuditThresholds? thresholds, params string[] buckets)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(buckets);
        if (buckets.Length == 0)
        {
            throw new ArgumentException("Name at least one bucket", nameof(buckets));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var list = buckets.ToArray();

        // A singleton, so the result cache survives between runs (registrations are otherwise created per run).
        builder.Services.AddNatsConnection();
        builder.Services.AddKeyedSingleton(name, (sp, _) => new NatsKvHygieneHealthCheck(sp.GetNatsConnection(), list, thresholds, sp.GetService<TimeProvider>()));
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => sp.GetRequiredKeyedService<NatsKvHygieneHealthCheck>(name),
            HealthStatus.Unhealthy,
            ["nats", "kv", "hygiene"]));
    }
}

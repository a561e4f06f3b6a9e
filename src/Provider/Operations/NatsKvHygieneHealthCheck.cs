using NATS.Client.Core;
using NATS.Client.JetStream;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CacheProvider.Operations;

/// <summary>
/// Runs the <c>kv-doctor audit</c> rules (<see cref="KvAudit"/>) on the buckets an application uses: Healthy without
/// findings or with informational ones only, Degraded with warnings or errors (each finding and its fix in the data), the registration's failure status when the
/// server cannot be reached. Buckets that do not exist yet are skipped. Results are reused for
/// <see cref="CacheDuration"/>, because the tombstone count scans every key
/// (registered as a singleton by <c>AddNatsKvHygiene</c>).
/// </summary>
public sealed class NatsKvHygieneHealthCheck : IHealthCheck, IDisposable
{
    private readonly INatsConnection _connection;
    private readonly IReadOnlyList<string> _buckets;
    private readonly KvAuditThresholds _thresholds;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (DateTimeOffset At, HealthCheckResult Result)? _last;

    /// <summary>Creates the check.</summary>
    /// <param name="connection">Connection to the server holding the buckets.</param>
    /// <param name="buckets">Buckets to audit.</param>
    /// <param name="thresholds">Limits; defaults when null.</param>
    /// <param name="timeProvider">Clock; system clock when null.</param>
    public NatsKvHygieneHealthCheck(INatsConnection connection, IReadOnlyList<string> buckets, KvAuditThresholds? thresholds = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(buckets);
        _connection = connection;
        _buckets = buckets;
        _thresholds = thresholds ?? KvAuditThresholds.Default;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>How long a result is reused (default 1 minute; zero = audit on every call).</summary>
    public TimeSpan CacheDuration { get; init; } = TimeSpan.FromMinutes(1);

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _time.GetUtcNow();
            if (_last is { } last && now - last.At < CacheDuration)
            {
                return last.Result;
            }

            var result = await AuditAsync(context, now, cancellationToken).ConfigureAwait(false);
            if (result.Status != context.Registration.FailureStatus || result.Status == HealthStatus.Degraded)
            {
                _last = (now, result);
            }

            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<HealthCheckResult> AuditAsync(HealthCheckContext context, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var data = new Dictionary<string, object> { ["buckets"] = string.Join(",", _buckets) };
        var findings = new List<KvFinding>();
        try
        {
            var kv = new KvContext(_connection);
            var version = await kv.ConnectAsync(cancellationToken).ConfigureAwait(false);
            data["server"] = version.ToString();
            if (KvAudit.CheckServer(version) is { } old)
            {
                findings.Add(old);
            }

            foreach (var name in _buckets)
            {
                KvBucket bucket;
                try
                {
                    bucket = await kv.GetBucketAsync(name, cancellationToken).ConfigureAwait(false);
                }
                catch (NatsJSApiException ex) when (ex.Error.ErrCode == 10059)
                {
                    data[name] = "missing";
                    continue;
                }

                var keys = await KvKeyScanner.ScanAsync(bucket, cancellationToken).ConfigureAwait(false);
                var report = KvAudit.Evaluate(bucket.Info, version, now, keys, _thresholds);
                data[name] = $"messages={report.Messages} num_deleted={report.NumDeleted} tombstones={keys.PermanentTombstones}";
                findings.AddRange(report.Findings);
            }
        }
        catch (NatsException ex)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "NATS unreachable for the KV hygiene audit: " + ex.Message, ex, data);
        }

        if (findings.Count == 0)
        {
            return HealthCheckResult.Healthy("KV buckets clean", data);
        }

        findings = findings.OrderByDescending(f => f.Severity).ToList();
        for (var i = 0; i < findings.Count; i++)
        {
            var f = findings[i];
            data[$"finding{i}"] = f.ToString();
        }

        var summary = string.Join("; ", findings.Select(f => $"{f.Bucket ?? "server"}: {f.Code} ({f.Severity})"));

        // Informational findings (nothing to do yet, e.g. markers off on a bucket where nothing expires) are shown, not degrading.
        return findings[0].Severity == KvFindingSeverity.Info
            ? HealthCheckResult.Healthy($"KV buckets clean; {findings.Count} note(s): {summary}", data)
            : HealthCheckResult.Degraded($"{findings.Count} KV hygiene finding(s): {summary}", data: data);
    }
}

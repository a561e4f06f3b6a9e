using CacheProvider.KeyValue;
using NATS.Client.Core;
using NATS.Client.JetStream;
using CacheProvider.Operations;

namespace CacheProvider.KvDoctor.Audit;

/// <summary>Collects stream info and key scans from the server and applies <see cref="KvAudit"/>.</summary>
internal static class AuditRunner
{
    /// <summary>Audits <paramref name="buckets"/> (all KV buckets when empty).</summary>
    /// <exception cref="UsageException">A named bucket does not exist.</exception>
    public static async Task<AuditResult> RunAsync(INatsConnection connection, IReadOnlyList<string> buckets, KvAuditThresholds thresholds, bool scanKeys, CancellationToken cancellationToken)
    {
        var kv = new KvContext(connection);
        var version = kv.ServerVersion ?? new Version(0, 0);
        var names = buckets.Count > 0 ? buckets.ToList() : await ListAsync(kv, cancellationToken).ConfigureAwait(false);
        var reports = new List<KvBucketReport>(names.Count);
        foreach (var name in names.Order(StringComparer.Ordinal))
        {
            var bucket = await BindAsync(kv, name, cancellationToken).ConfigureAwait(false);
            var keys = scanKeys ? await KvKeyScanner.ScanAsync(bucket, cancellationToken).ConfigureAwait(false) : null;
            reports.Add(KvAudit.Evaluate(bucket.Info, version, DateTimeOffset.UtcNow, keys, thresholds));
        }

        var serverFindings = KvAudit.CheckServer(version) is { } f ? new[] { f } : [];
        return new AuditResult(ConnectedServer(connection), version, serverFindings, reports);
    }

    /// <summary>Binds a bucket, turning "not found" into a usage error.</summary>
    public static async Task<KvBucket> BindAsync(KvContext kv, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await kv.GetBucketAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == JetStreamErrorCodes.StreamNotFound)
        {
            throw new UsageException($"bucket '{name}' does not exist (no stream KV_{name})");
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"'{name}' is not a valid bucket name: {ex.Message}");
        }
    }

    /// <summary>The server actually connected to: its advertised address, else the (redacted) seed URLs.</summary>
    private static string ConnectedServer(INatsConnection connection)
    {
        if (connection.ServerInfo is { } info && !string.IsNullOrEmpty(info.Host) && info.Host is not ("0.0.0.0" or "::" or "[::]"))
        {
            return $"nats://{info.Host}:{info.Port}";
        }

        return ConnectionFlags.Redact(connection.Opts.Url);
    }

    private static async Task<List<string>> ListAsync(KvContext kv, CancellationToken cancellationToken)
    {
        var list = new List<string>();
        await foreach (var name in kv.ListBucketNamesAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(name);
        }

        return list;
    }
}

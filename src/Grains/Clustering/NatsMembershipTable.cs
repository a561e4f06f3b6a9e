using System.Globalization;
using CacheProvider.Grains.Clustering.Internal;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;

namespace CacheProvider.Grains;

/// <summary>
/// Orleans' <see cref="IMembershipTable"/> on one NATS KV bucket. The table version is its own key and each silo's row
/// another; InsertRow and UpdateRow write both in one atomic batch with a compare-and-set on each, so a row never
/// changes without the version and a lost race stores nothing. <c>TableVersion.VersionEtag</c> and each row's etag are
/// the keys' revisions. Heartbeats (<see cref="UpdateIAmAliveAsync"/>) are blind writes of a separate key that change
/// neither. ReadAll is one consistent read (a <c>multi_last</c> direct get) of the version, the rows and the heartbeats.
/// Needs nats-server 2.12+.
/// </summary>
public sealed partial class NatsMembershipTable : IMembershipTable
{
    private readonly NatsClusteringOptions _options;
    private readonly ClusterBucket _bucket;
    private readonly MembershipKeys _keys;
    private readonly ILogger _logger;
    private readonly string[] _tableAndAlive;

    // The highest stream sequence this process saw acknowledged: on replicated buckets any replica answers direct
    // gets, and a read from one that has not applied it yet is repeated (read-your-writes).
    private long _lastAcked;

    /// <summary>Creates the table; nothing is sent before the first call.</summary>
    /// <param name="options">Bucket and connection settings.</param>
    /// <param name="clusterOptions">The silo's or client's ServiceId and ClusterId, which namespace the keys.</param>
    /// <param name="connection">The app's NATS.Net connection (not owned).</param>
    /// <param name="timeProvider">Clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="logger">Logger.</param>
    public NatsMembershipTable(NatsClusteringOptions options, ClusterOptions clusterOptions, INatsConnection connection, TimeProvider? timeProvider = null, ILogger<NatsMembershipTable>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clusterOptions);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(clusterOptions.ServiceId, nameof(clusterOptions));
        ArgumentException.ThrowIfNullOrEmpty(clusterOptions.ClusterId, nameof(clusterOptions));
        _options = options;
        ServiceId = clusterOptions.ServiceId;
        ClusterId = clusterOptions.ClusterId;
        _keys = new MembershipKeys(ServiceId, ClusterId);
        _tableAndAlive = [_keys.TableFilter, _keys.AliveFilter];
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var context = new KvContext(connection, new KvContextOptions { TimeProvider = timeProvider ?? TimeProvider.System });
        _bucket = new ClusterBucket(context, options.Bucket, options.Replicas, options.Storage, needsAtomic: true, "NATS clustering");
    }

    /// <summary>The service whose cluster this table holds.</summary>
    public string ServiceId { get; }

    /// <summary>The cluster this table holds.</summary>
    public string ClusterId { get; }

    /// <summary>The bucket.</summary>
    public string Bucket => _options.Bucket;

    /// <inheritdoc />
    public Task InitializeMembershipTable(bool tryInitTableVersion) => InitializeMembershipTableAsync(tryInitTableVersion, CancellationToken.None);

    /// <inheritdoc />
    public Task DeleteMembershipTableEntries(string clusterId) => DeleteMembershipTableEntriesAsync(clusterId, CancellationToken.None);

    /// <inheritdoc />
    public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => CleanupDefunctSiloEntriesAsync(beforeDate, CancellationToken.None);

    /// <inheritdoc />
    public Task<MembershipTableData> ReadRow(SiloAddress key) => ReadRowAsync(key, CancellationToken.None);

    /// <inheritdoc />
    public Task<MembershipTableData> ReadAll() => ReadAllAsync(CancellationToken.None);

    /// <inheritdoc />
    public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => InsertRowAsync(entry, tableVersion, CancellationToken.None);

    /// <inheritdoc />
    public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => UpdateRowAsync(entry, etag, tableVersion, CancellationToken.None);

    /// <inheritdoc />
    public Task UpdateIAmAlive(MembershipEntry entry) => UpdateIAmAliveAsync(entry, CancellationToken.None);

    /// <summary>
    /// Creates (or checks) the bucket; with <paramref name="tryInitTableVersion"/> also writes version 0 unless a
    /// version exists.
    /// </summary>
    /// <exception cref="OrleansConfigurationException">The server is older than 2.12, or the bucket has a max age.</exception>
    public async Task InitializeMembershipTableAsync(bool tryInitTableVersion, CancellationToken cancellationToken = default)
    {
        try
        {
            var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
            if (!tryInitTableVersion)
            {
                return;
            }

            try
            {
                var seq = await bucket.UpdateAsync(_keys.Version, MembershipRecords.Serialize(new VersionRecord(0, NewWriteId())), expectedRevision: 0, cancellationToken: cancellationToken).ConfigureAwait(false);
                Acked(seq);
                LogInitialized(_logger, ServiceId, ClusterId, Bucket);
            }
            catch (KvWrongRevisionException)
            {
                // Another silo (or an earlier start) wrote it first.
            }
        }
        catch (NatsException ex)
        {
            throw Failure("InitializeMembershipTable", ex);
        }
    }

    /// <summary>Every row and the table version, read as one consistent snapshot.</summary>
    public async Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
            var read = await bucket.GetLatestAsync(_tableAndAlive, LastAcked, cancellationToken: cancellationToken).ConfigureAwait(false);
            return ToTableData(read.Entries);
        }
        catch (NatsException ex)
        {
            throw Failure("ReadAll", ex);
        }
    }

    /// <summary>The row of <paramref name="key"/> (if any) and the table version, read as one consistent snapshot.</summary>
    public async Task<MembershipTableData> ReadRowAsync(SiloAddress key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        try
        {
            var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
            var read = await bucket.GetLatestAsync([_keys.Version, _keys.Row(key), _keys.Alive(key)], LastAcked, cancellationToken: cancellationToken).ConfigureAwait(false);
            return ToTableData(read.Entries);
        }
        catch (NatsException ex)
        {
            throw Failure("ReadRow", ex);
        }
    }

    private MembershipTableData ToTableData(IReadOnlyList<KvEntry> entries)
    {
        var version = new TableVersion(0, "0");
        var rows = new List<Tuple<MembershipEntry, string>>();
        Dictionary<string, DateTime>? alive = null;
        foreach (var e in entries)
        {
            if (e.Key.StartsWith(_keys.AlivePrefix, StringComparison.Ordinal))
            {
                alive ??= new Dictionary<string, DateTime>(StringComparer.Ordinal);
                alive[e.Key[_keys.AlivePrefix.Length..]] = MembershipRecords.ParseAlive(e.Value);
            }
        }

        foreach (var e in entries)
        {
            if (string.Equals(e.Key, _keys.Version, StringComparison.Ordinal))
            {
                version = new TableVersion(MembershipRecords.ParseVersion(e.Value).Version, Etag(e.Revision));
            }
            else if (e.Key.StartsWith(_keys.RowPrefix, StringComparison.Ordinal))
            {
                var row = MembershipRecords.ParseRow(e.Value);
                if (alive is not null && alive.TryGetValue(e.Key[_keys.RowPrefix.Length..], out var beat) && beat > row.IAmAliveTime)
                {
                    row.IAmAliveTime = beat;
                }

                rows.Add(Tuple.Create(row, Etag(e.Revision)));
            }
        }

        return new MembershipTableData(rows, version);
    }

    private ulong LastAcked => (ulong)Interlocked.Read(ref _lastAcked);

    private void Acked(ulong sequence)
    {
        var seen = Interlocked.Read(ref _lastAcked);
        while ((ulong)seen < sequence)
        {
            var was = Interlocked.CompareExchange(ref _lastAcked, (long)sequence, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }

    private static string Etag(ulong revision) => revision.ToString(CultureInfo.InvariantCulture);

    private static bool TryParseEtag(string? etag, out ulong revision) =>
        ulong.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out revision);

    private static string NewWriteId() => Guid.NewGuid().ToString("N");

    private NatsClusteringException Failure(string operation, NatsException exception)
    {
        LogFailure(_logger, exception, operation, ServiceId, ClusterId);
        return new NatsClusteringException($"Membership table {operation} failed: ServiceId={ServiceId} ClusterId={ClusterId} Bucket={Bucket}. {exception.GetType().FullName}: {exception.Message}");
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "Membership table {Operation} failed (service {ServiceId}, cluster {ClusterId})")]
    private static partial void LogFailure(ILogger logger, Exception exception, string operation, string serviceId, string clusterId);

    [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "Membership table of service {ServiceId}, cluster {ClusterId} initialized in bucket {Bucket}")]
    private static partial void LogInitialized(ILogger logger, string serviceId, string clusterId, string bucket);

    [LoggerMessage(EventId = 42, Level = LogLevel.Warning, Message = "Membership table {Operation}: the commit got no reply and the version was changed by another write; outcome unknown (service {ServiceId}, cluster {ClusterId})")]
    private static partial void LogUnknownOutcome(ILogger logger, string operation, string serviceId, string clusterId);

    [LoggerMessage(EventId = 43, Level = LogLevel.Information, Message = "Membership table cleanup removed {Count} defunct silo rows (service {ServiceId}, cluster {ClusterId})")]
    private static partial void LogCleanedUp(ILogger logger, int count, string serviceId, string clusterId);
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Grains.Internal;
using NATS.Client.Core;
using NATS.Client.JetStream;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CacheProvider.Grains;

/// <summary>
/// Orleans' <c>IReminderTable</c> on NATS KV. Keys are
/// <c>{serviceId}.{h0}.{h1}.{h2}.{hash:X8}.{grainType}.{grainKey}.{reminderName}</c> where h0.. are the leading hex
/// digits of <see cref="GrainId.GetUniformHashCode"/>, one per token, so a ring-range read subscribes only to the
/// prefix subtrees inside the range and touches about the fraction of rows the range covers. ETag = KV revision
/// (unique per write); upsert is unconditional; removal is a compare-and-set purge with a self-expiring tombstone.
/// </summary>
public sealed partial class NatsReminderTable : IReminderTable
{
    private readonly NatsReminderTableOptions _options;
    private readonly KvContext _context;
    private readonly ILogger _logger;
    private readonly string _prefix;
    private readonly KvBucketHandle _bucket;
    private long _rowsTouched;

    /// <summary>Creates the table; nothing is sent before <see cref="StartAsync"/> or the first call.</summary>
    public NatsReminderTable(NatsReminderTableOptions options, INatsConnection connection, TimeProvider? timeProvider = null, ILogger<NatsReminderTable>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(options.ServiceId, nameof(options));
        _options = options;
        _context = new KvContext(connection, new KvContextOptions { TimeProvider = timeProvider ?? TimeProvider.System });
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _prefix = KeyEncoder.EncodeToken(options.ServiceId) + ".";
        _bucket = new KvBucketHandle(_context, new KvBucketConfig
        {
            Bucket = options.Bucket,
            Description = "Orleans reminders (CacheProvider.Grains)",
            History = 1,
            AllowMsgTtl = true,
            Storage = options.Storage,
            Replicas = options.Replicas,
        }, (_, refusal) => LogExistingBucket(_logger, options.Bucket, refusal.Message));
    }

    /// <summary>Messages read by range and grain reads so far (rows touched, including rows outside the range).</summary>
    public long RowsTouched => Interlocked.Read(ref _rowsTouched);

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await GetBucketAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw Failure("StartAsync", ex);
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<ReminderTableData> ReadRows(GrainId grainId) => ReadRowsAsync(grainId, CancellationToken.None);

    /// <inheritdoc />
    public Task<ReminderTableData> ReadRows(GrainId grainId, CancellationToken cancellationToken) => ReadRowsAsync(grainId, cancellationToken);

    /// <inheritdoc />
    public Task<ReminderTableData> ReadRows(uint begin, uint end) => ReadRowsAsync(begin, end, CancellationToken.None);

    /// <inheritdoc />
    public Task<ReminderTableData> ReadRows(uint begin, uint end, CancellationToken cancellationToken) => ReadRowsAsync(begin, end, cancellationToken);

    /// <inheritdoc />
    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => ReadRowAsync(grainId, reminderName, CancellationToken.None);

    /// <inheritdoc />
    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName, CancellationToken cancellationToken) => ReadRowAsync(grainId, reminderName, cancellationToken);

    /// <inheritdoc />
    public Task<string?> UpsertRow(ReminderEntry entry) => UpsertRowAsync(entry, CancellationToken.None);

    /// <inheritdoc />
    public Task<string?> UpsertRow(ReminderEntry entry, CancellationToken cancellationToken) => UpsertRowAsync(entry, cancellationToken);

    /// <inheritdoc />
    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => RemoveRowAsync(grainId, reminderName, eTag, CancellationToken.None);

    /// <inheritdoc />
    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag, CancellationToken cancellationToken) => RemoveRowAsync(grainId, reminderName, eTag, cancellationToken);

    /// <inheritdoc />
    public Task TestOnlyClearTable() => ClearAsync(CancellationToken.None);

    /// <inheritdoc />
    public Task TestOnlyClearTable(CancellationToken cancellationToken) => ClearAsync(cancellationToken);

    /// <summary>Every reminder of a grain: one filter on the grain's own key prefix.</summary>
    public async Task<ReminderTableData> ReadRowsAsync(GrainId grainId, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadRowsCoreAsync(grainId, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw Failure("ReadRows", ex);
        }
    }

    private async Task<ReminderTableData> ReadRowsCoreAsync(GrainId grainId, CancellationToken cancellationToken)
    {
        var bucket = await GetBucketAsync(cancellationToken).ConfigureAwait(false);
        var filter = AppendGrainPrefix(new StringBuilder(_prefix, 128), grainId).Append('*').ToString();
        var entries = new List<KvSnapshotEntry>();
        var touched = await KvSnapshot.ReadAsync(bucket, [filter], entries, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _rowsTouched, touched);
        // ReminderTableData's parameterless constructor holds a fixed-size array: collect first.
        var rows = new List<ReminderEntry>(entries.Count);
        foreach (var e in entries)
        {
            var entry = ToEntry(e);
            if (entry.GrainId == grainId)
            {
                rows.Add(entry);
            }
        }

        return new ReminderTableData(rows);
    }

    /// <summary>Rows in the ring range (begin, end] (wrapping when begin &gt;= end; (x, x) = all).</summary>
    public async Task<ReminderTableData> ReadRowsAsync(uint begin, uint end, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadRowsCoreAsync(begin, end, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw Failure("ReadRows", ex);
        }
    }

    private async Task<ReminderTableData> ReadRowsCoreAsync(uint begin, uint end, CancellationToken cancellationToken)
    {
        var bucket = await GetBucketAsync(cancellationToken).ConfigureAwait(false);
        var filters = HashRangeFilter.Build(_prefix, begin, end, _options.HashPrefixDepth, _options.MaxFilterSubjects);
        var entries = new List<KvSnapshotEntry>();
        var touched = await KvSnapshot.ReadAsync(bucket, filters, entries, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _rowsTouched, touched);
        var rows = new List<ReminderEntry>(entries.Count);
        foreach (var e in entries)
        {
            var entry = ToEntry(e);
            if (HashRangeFilter.InRange(entry.GrainId.GetUniformHashCode(), begin, end))
            {
                rows.Add(entry);
            }
        }

        return new ReminderTableData(rows);
    }

    /// <summary>One reminder, or null.</summary>
    public async Task<ReminderEntry?> ReadRowAsync(GrainId grainId, string reminderName, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadRowCoreAsync(grainId, reminderName, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw Failure("ReadRow", ex);
        }
    }

    private async Task<ReminderEntry?> ReadRowCoreAsync(GrainId grainId, string reminderName, CancellationToken cancellationToken)
    {
        var bucket = await GetBucketAsync(cancellationToken).ConfigureAwait(false);
        var entry = await bucket.GetAsync(RowKey(grainId, reminderName), KvReadMode.Direct, cancellationToken).ConfigureAwait(false);
        return entry is null ? null : ToEntry(new KvSnapshotEntry(entry.Key, entry.Value, entry.Revision));
    }

    /// <summary>Inserts or replaces unconditionally; returns (and sets on <paramref name="entry"/>) the new ETag.</summary>
    public async Task<string?> UpsertRowAsync(ReminderEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            return await UpsertRowCoreAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw Failure("UpsertRow", ex);
        }
    }

    private async Task<string?> UpsertRowCoreAsync(ReminderEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(entry.ReminderName);
        var bucket = await GetBucketAsync(cancellationToken).ConfigureAwait(false);
        var startAt = entry.StartAt.Kind == DateTimeKind.Local ? entry.StartAt.ToUniversalTime() : entry.StartAt;
        var record = new ReminderRecord
        {
            GrainType = entry.GrainId.Type.ToString(),
            GrainKey = entry.GrainId.Key.ToString(),
            Name = entry.ReminderName,
            StartAtTicks = startAt.Ticks,
            PeriodTicks = entry.Period.Ticks,
        };
        var value = JsonSerializer.SerializeToUtf8Bytes(record, ReminderJsonContext.Default.ReminderRecord);
        var revision = await bucket.PutAsync(RowKey(entry.GrainId, entry.ReminderName), value, null, cancellationToken).ConfigureAwait(false);
        var eTag = revision.ToString(CultureInfo.InvariantCulture);
        entry.ETag = eTag;
        return eTag;
    }

    /// <summary>Removes the row if it exists at <paramref name="eTag"/>; false otherwise (never throws for that).</summary>
    public async Task<bool> RemoveRowAsync(GrainId grainId, string reminderName, string eTag, CancellationToken cancellationToken)
    {
        try
        {
            return await RemoveRowCoreAsync(grainId, reminderName, eTag, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw Failure("RemoveRow", ex);
        }
    }

    private async Task<bool> RemoveRowCoreAsync(GrainId grainId, string reminderName, string eTag, CancellationToken cancellationToken)
    {
        if (reminderName is null || !ulong.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out var revision) || revision == 0)
        {
            return false;
        }

        var bucket = await GetBucketAsync(cancellationToken).ConfigureAwait(false);
        var key = RowKey(grainId, reminderName);

        // The revision must be a live row's, not a tombstone's: check, then remove with compare-and-set.
        var last = await bucket.GetLastAsync(key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
        if (last is not { IsValue: true } || last.Revision != revision)
        {
            return false;
        }

        try
        {
            await bucket.PurgeAsync(key, _options.RemovedTombstoneTtl, revision, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (KvWrongRevisionException)
        {
            return false;
        }
    }

    /// <summary>Deletes every row of this service (stream purge by subject: no tombstones left).</summary>
    public async Task ClearAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ClearCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw Failure("TestOnlyClearTable", ex);
        }
    }

    private async Task ClearCoreAsync(CancellationToken cancellationToken)
    {
        var bucket = await GetBucketAsync(cancellationToken).ConfigureAwait(false);
        var removed = await bucket.PurgeKeysAsync(_prefix + ">", cancellationToken).ConfigureAwait(false);
        LogCleared(_logger, _options.ServiceId, removed);
    }

    /// <summary>The KV key of a row.</summary>
    internal string RowKey(GrainId grainId, string reminderName)
    {
        var builder = AppendGrainPrefix(new StringBuilder(_prefix, 128), grainId);
        KeyEncoder.AppendToken(builder, reminderName);
        return builder.ToString();
    }

    private StringBuilder AppendGrainPrefix(StringBuilder builder, GrainId grainId)
    {
        var hash = grainId.GetUniformHashCode();
        HashRangeFilter.AppendPrefixTokens(builder, hash, _options.HashPrefixDepth);
        builder.Append(hash.ToString("X8", CultureInfo.InvariantCulture)).Append('.');
        KeyEncoder.AppendToken(builder, grainId.Type.ToString());
        builder.Append('.');
        KeyEncoder.AppendToken(builder, grainId.Key.ToString());
        return builder.Append('.');
    }

    private static ReminderEntry ToEntry(in KvSnapshotEntry e)
    {
        var record = JsonSerializer.Deserialize(e.Value.Span, ReminderJsonContext.Default.ReminderRecord)
            ?? throw new InvalidDataException($"Reminder row '{e.Key}' is empty");
        return new ReminderEntry
        {
            // From the bytes, not GrainId.Create: that refuses empty keys, which real ids can have ("type/").
            GrainId = new GrainId(new GrainType(Encoding.UTF8.GetBytes(record.GrainType)), new IdSpan(Encoding.UTF8.GetBytes(record.GrainKey))),
            ReminderName = record.Name,
            StartAt = new DateTime(record.StartAtTicks, DateTimeKind.Utc),
            Period = TimeSpan.FromTicks(record.PeriodTicks),
            ETag = e.Revision.ToString(CultureInfo.InvariantCulture),
        };
    }

    private NatsReminderTableException Failure(string operation, NatsException exception)
    {
        LogFailure(_logger, exception, operation, _options.ServiceId);
        return new NatsReminderTableException($"Reminder table {operation} failed: ServiceId={_options.ServiceId} Bucket={_options.Bucket}. {exception.GetType().FullName}: {exception.Message}");
    }

    private ValueTask<KvBucket> GetBucketAsync(CancellationToken cancellationToken) => _bucket.GetAsync(cancellationToken);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "Reminder table {Operation} failed (service {ServiceId})")]
    private static partial void LogFailure(ILogger logger, Exception exception, string operation, string serviceId);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Reminder table of service {ServiceId} cleared ({Removed} messages)")]
    private static partial void LogCleared(ILogger logger, string serviceId, ulong removed);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Reminder table uses existing bucket {Bucket} ({Reason})")]
    private static partial void LogExistingBucket(ILogger logger, string bucket, string reason);
}

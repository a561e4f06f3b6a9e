using System.Buffers;
using CacheProvider.Grains.Clustering.Internal;
using CacheProvider.KeyValue;
using NATS.Client.Core;
using NATS.Client.JetStream.Models;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Grains;

/// <summary>Writes: insert, update, heartbeat, cleanup and delete.</summary>
public sealed partial class NatsMembershipTable
{
    private const int MaxCleanupAttempts = 5;

    // Version + (row purge + heartbeat purge) per silo within the server's 1000-message batch limit.
    private const int MaxRowsPerCleanupBatch = (KvAtomicBatch.MaxOperations - 1) / 2;

    /// <summary>
    /// Adds a row and moves the version to <paramref name="tableVersion"/>, in one atomic batch: only if the row does not
    /// exist and the stored version's etag is <c>tableVersion.VersionEtag</c>. False: nothing was written.
    /// </summary>
    /// <exception cref="NatsClusteringException">NATS failed, or the commit got no reply and a re-read cannot tell whether it was stored.</exception>
    public async Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tableVersion);
        if (!TryParseEtag(tableVersion.VersionEtag, out var versionRevision))
        {
            return false;
        }

        try
        {
            var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
            var rowKey = _keys.Row(entry.SiloAddress);

            // "Must not exist" is "its last message is no value": a cleaned-up row's tombstone may still be there. The
            // version key rides along so the read never comes back empty (an empty answer does not say how fresh it is).
            var current = await bucket.GetLatestAsync([_keys.Version, rowKey], LastAcked, includeRemoved: true, cancellationToken).ConfigureAwait(false);
            ulong rowRevision = 0;
            foreach (var e in current.Entries)
            {
                if (!string.Equals(e.Key, rowKey, StringComparison.Ordinal))
                {
                    continue;
                }

                if (e.IsValue)
                {
                    return false;
                }

                rowRevision = e.Revision;
            }

            return await CommitRowAsync(bucket, "InsertRow", entry, tableVersion.Version, versionRevision, rowKey, rowRevision, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw Failure("InsertRow", ex);
        }
    }

    /// <summary>
    /// Replaces a row and moves the version to <paramref name="tableVersion"/>, in one atomic batch: only if the row's
    /// etag is still <paramref name="etag"/> and the version's is still <c>tableVersion.VersionEtag</c>. False: nothing
    /// was written.
    /// </summary>
    /// <exception cref="NatsClusteringException">NATS failed, or the commit got no reply and a re-read cannot tell whether it was stored.</exception>
    public async Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tableVersion);
        if (!TryParseEtag(tableVersion.VersionEtag, out var versionRevision) || !TryParseEtag(etag, out var rowRevision) || rowRevision == 0)
        {
            return false;
        }

        try
        {
            var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
            return await CommitRowAsync(bucket, "UpdateRow", entry, tableVersion.Version, versionRevision, _keys.Row(entry.SiloAddress), rowRevision, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw Failure("UpdateRow", ex);
        }
    }

    private async Task<bool> CommitRowAsync(KvBucket bucket, string operation, MembershipEntry entry, int version, ulong versionRevision, string rowKey, ulong rowRevision, CancellationToken cancellationToken)
    {
        var writeId = NewWriteId();
        var batch = new KvAtomicBatch()
            .Put(_keys.Version, MembershipRecords.Serialize(new VersionRecord(version, writeId)), versionRevision)
            .Put(rowKey, MembershipRecords.Serialize(entry), rowRevision);
        KvAtomicResult result;
        try
        {
            result = await bucket.CommitAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        catch (KvWriteOutcomeUnknownException)
        {
            return await ResolveUnknownAsync(bucket, operation, writeId, versionRevision, cancellationToken).ConfigureAwait(false);
        }

        if (!result.Committed)
        {
            return false;
        }

        Acked(result.Sequence);
        return true;
    }

    /// <summary>
    /// A commit got no reply. The version key carries the id of the write that set it: if it is ours, the batch is
    /// stored. If the version is still where the batch expected it, the batch may still be on its way (the server
    /// queues publishes apart from reads), so a fence — the same version rewritten with a compare-and-set on that
    /// revision — settles it: once the fence is stored the batch's own compare-and-set can never succeed, so "false" is
    /// then the truth. Anything else is unknown and throws.
    /// </summary>
    private async Task<bool> ResolveUnknownAsync(KvBucket bucket, string operation, string writeId, ulong versionRevision, CancellationToken cancellationToken)
    {
        var current = await ReadVersionAsync(bucket, cancellationToken).ConfigureAwait(false);
        if (current?.Record.WriteId == writeId)
        {
            Acked(current.Value.Revision + 1);
            return true;
        }

        if (current is { } stored && stored.Revision == versionRevision)
        {
            try
            {
                var fence = await bucket.UpdateAsync(_keys.Version, MembershipRecords.Serialize(stored.Record with { WriteId = NewWriteId() }), versionRevision, cancellationToken: cancellationToken).ConfigureAwait(false);
                Acked(fence);
                return false;
            }
            catch (KvWrongRevisionException)
            {
                current = await ReadVersionAsync(bucket, cancellationToken).ConfigureAwait(false);
                if (current?.Record.WriteId == writeId)
                {
                    Acked(current.Value.Revision + 1);
                    return true;
                }
            }
        }

        LogUnknownOutcome(_logger, operation, ServiceId, ClusterId);
        throw new NatsClusteringException(
            $"Membership table {operation}: the commit got no reply and the table version has since been changed by another write, so whether it was stored is unknown (ServiceId={ServiceId} ClusterId={ClusterId} Bucket={Bucket})");
    }

    private async Task<(VersionRecord Record, ulong Revision)?> ReadVersionAsync(KvBucket bucket, CancellationToken cancellationToken)
    {
        var read = await bucket.GetLatestAsync([_keys.Version], LastAcked, cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var e in read.Entries)
        {
            return (MembershipRecords.ParseVersion(e.Value), e.Revision);
        }

        return null;
    }

    /// <summary>
    /// Writes the silo's heartbeat time (<c>entry.IAmAliveTime</c>) to its own key with one blind write: no read, no
    /// compare-and-set, and neither the table version nor the row's etag changes. Repeated (stored once) when a reply is lost.
    /// </summary>
    public async Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        try
        {
            var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
            // A message id makes a repeat after a lost reply (e.g. during a leader election) store the heartbeat once.
            var seq = await bucket.PutAsync(
                _keys.Alive(entry.SiloAddress),
                new ReadOnlySequence<byte>(MembershipRecords.SerializeAlive(entry.IAmAliveTime)),
                new KvPutOptions { MsgId = NewWriteId() },
                cancellationToken).ConfigureAwait(false);
            Acked(seq);
        }
        catch (NatsException ex)
        {
            throw Failure("UpdateIAmAlive", ex);
        }
    }

    /// <summary>
    /// Removes the rows of silos that are <see cref="SiloStatus.Dead"/>, whose last heartbeat and start are both
    /// strictly before <paramref name="beforeDate"/> and that have no suspicion vote at or after it (the rule of
    /// Orleans' Redis clustering). The removal and a version bump are one atomic batch; when nothing qualifies nothing
    /// is written. A concurrent change makes it read again and retry.
    /// </summary>
    public async Task CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken = default)
    {
        try
        {
            var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
            var cutoff = beforeDate.UtcDateTime;
            for (var attempt = 0; attempt < MaxCleanupAttempts; attempt++)
            {
                var read = await bucket.GetLatestAsync(_tableAndAlive, LastAcked, cancellationToken: cancellationToken).ConfigureAwait(false);
                var table = ToTableData(read.Entries);
                var defunct = new List<(MembershipEntry Row, ulong Revision)>();
                foreach (var (row, etag) in table.Members)
                {
                    if (IsDefunct(row, cutoff) && TryParseEtag(etag, out var revision))
                    {
                        defunct.Add((row, revision));
                    }
                }

                if (defunct.Count == 0)
                {
                    return;
                }

                if (!TryParseEtag(table.Version.VersionEtag, out var versionRevision) ||
                    !await RemoveAsync(bucket, defunct, table.Version.Version, versionRevision, cancellationToken).ConfigureAwait(false))
                {
                    continue; // the table moved on: look again
                }

                LogCleanedUp(_logger, defunct.Count, ServiceId, ClusterId);
                return;
            }
        }
        catch (NatsException ex)
        {
            throw Failure("CleanupDefunctSiloEntries", ex);
        }
    }

    private async Task<bool> RemoveAsync(KvBucket bucket, List<(MembershipEntry Row, ulong Revision)> defunct, int version, ulong versionRevision, CancellationToken cancellationToken)
    {
        for (var start = 0; start < defunct.Count; start += MaxRowsPerCleanupBatch)
        {
            version++;
            var batch = new KvAtomicBatch().Put(_keys.Version, MembershipRecords.Serialize(new VersionRecord(version, NewWriteId())), versionRevision);
            for (var i = start; i < defunct.Count && i < start + MaxRowsPerCleanupBatch; i++)
            {
                var silo = defunct[i].Row.SiloAddress;
                batch.Purge(_keys.Row(silo), defunct[i].Revision, _options.RemovedTombstoneTtl);
                batch.Purge(_keys.Alive(silo), expectedRevision: null, _options.RemovedTombstoneTtl);
            }

            KvAtomicResult result;
            try
            {
                result = await bucket.CommitAsync(batch, cancellationToken).ConfigureAwait(false);
            }
            catch (KvWriteOutcomeUnknownException)
            {
                // Cleanup is repeatable: the next pass (or the next period) sees what was removed.
                return false;
            }

            if (!result.Committed)
            {
                return false;
            }

            Acked(result.Sequence);
            versionRevision = result.RevisionOf(0);
        }

        return true;
    }

    private static bool IsDefunct(MembershipEntry row, DateTime cutoff)
    {
        if (row.Status != SiloStatus.Dead)
        {
            return false;
        }

        var lastSeen = row.IAmAliveTime > row.StartTime ? row.IAmAliveTime : row.StartTime;
        if (lastSeen.ToUniversalTime() >= cutoff)
        {
            return false;
        }

        if (row.SuspectTimes is { } votes)
        {
            foreach (var vote in votes)
            {
                if (vote.Item2.ToUniversalTime() >= cutoff)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Removes every key of this cluster (version, rows, heartbeats) with a filtered stream purge, which leaves no
    /// tombstones.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="clusterId"/> is not this table's cluster.</exception>
    public async Task DeleteMembershipTableEntriesAsync(string clusterId, CancellationToken cancellationToken = default)
    {
        if (!string.Equals(clusterId, ClusterId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"This membership table holds cluster '{ClusterId}', not '{clusterId}'", nameof(clusterId));
        }

        try
        {
            var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
            foreach (var prefix in new[] { _keys.TablePrefix, _keys.AlivePrefix })
            {
                await _bucket.Context.JetStream.PurgeStreamAsync(bucket.StreamName, new StreamPurgeRequest { Filter = $"$KV.{bucket.Bucket}.{prefix}>" }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (NatsException ex)
        {
            throw Failure("DeleteMembershipTableEntries", ex);
        }
    }
}

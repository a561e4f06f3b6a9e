using CacheProvider.Nats.JetStream;
using CacheProvider.Nats.KeyValue;

namespace CacheProvider.Grains.Internal;

/// <summary>One current value delivered by a <see cref="KvSnapshot"/>.</summary>
/// <param name="Key">The KV key.</param>
/// <param name="Value">The value.</param>
/// <param name="Revision">Its revision.</param>
internal readonly record struct KvSnapshotEntry(string Key, ReadOnlyMemory<byte> Value, ulong Revision);

/// <summary>
/// Reads the current values of the keys matching several filters with one ordered consumer (deliver last per
/// subject) and stops when caught up. Tombstones and expiry markers are skipped. Uses only the public JetStream API.
/// </summary>
internal static class KvSnapshot
{
    /// <summary>Appends the live values under <paramref name="keyFilters"/> to <paramref name="results"/>.</summary>
    /// <returns>How many messages the server delivered (rows touched, tombstones included).</returns>
    public static async Task<int> ReadAsync(KvContext context, KvBucket bucket, IReadOnlyList<string> keyFilters, List<KvSnapshotEntry> results, CancellationToken cancellationToken)
    {
        var subjectPrefix = "$KV." + bucket.Bucket + ".";
        var subjects = new List<string>(keyFilters.Count);
        foreach (var filter in keyFilters)
        {
            subjects.Add(subjectPrefix + filter);
        }

        var consumer = await OrderedConsumer.CreateAsync(context.JetStream, bucket.StreamName, new OrderedConsumerOptions
        {
            FilterSubjects = subjects,
            DeliverPolicy = DeliverPolicy.LastPerSubject,
            IdleHeartbeat = TimeSpan.FromSeconds(5),
        }, cancellationToken).ConfigureAwait(false);
        await using var _ = consumer.ConfigureAwait(false);
        if (consumer.InitialPending == 0)
        {
            return 0;
        }

        var touched = 0;
        await foreach (var msg in consumer.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            touched++;
            var headers = msg.Msg.Headers;
            var isValue = headers is null || (!headers.Contains("KV-Operation") && !headers.Contains("Nats-Marker-Reason"));
            if (isValue)
            {
                results.Add(new KvSnapshotEntry(msg.Msg.Subject[subjectPrefix.Length..], msg.Msg.Data, msg.StreamSequence));
            }

            if (msg.Pending == 0)
            {
                break;
            }
        }

        return touched;
    }
}

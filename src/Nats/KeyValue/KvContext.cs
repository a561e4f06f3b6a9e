using CacheProvider.Nats.JetStream;
using CacheProvider.Nats.KeyValue.Internal;

namespace CacheProvider.Nats.KeyValue;

/// <summary>Creates, binds, inspects and deletes KV buckets (streams named <c>KV_&lt;bucket&gt;</c>).</summary>
public sealed class KvContext
{
    /// <summary>Server version from which per-key TTL expiry and markers are reliable (fixed TTL expiry after restart).</summary>
    public static readonly Version MinimumServerVersion = new(2, 12, 1);

    /// <summary>Creates a context.</summary>
    public KvContext(JetStreamContext jetStream)
    {
        ArgumentNullException.ThrowIfNull(jetStream);
        JetStream = jetStream;
    }

    /// <summary>Creates a context on a connection.</summary>
    public KvContext(NatsConnection connection) : this(new JetStreamContext(connection))
    {
    }

    /// <summary>The JetStream API.</summary>
    public JetStreamContext JetStream { get; }

    /// <summary>
    /// Clock for the client-side expiry check of the buckets this context creates or binds
    /// (<see cref="KvBucket.TimeProvider"/>); replaceable so expiry can be tested without waiting.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Creates a bucket, or returns the existing one if its configuration is identical.</summary>
    /// <exception cref="ArgumentException">
    /// Invalid name or settings, e.g. <see cref="KvBucketConfig.AllowMsgTtl"/> = false with a
    /// <see cref="KvBucketConfig.LimitMarkerTtl"/>; thrown before any request.
    /// </exception>
    /// <exception cref="JetStreamApiException">The server refused (e.g. 10058 a different bucket of that name exists).</exception>
    public async ValueTask<KvBucket> CreateBucketAsync(KvBucketConfig config, CancellationToken cancellationToken = default)
    {
        var stream = await ToStreamConfigAsync(config, cancellationToken).ConfigureAwait(false);
        var info = await JetStream.CreateStreamAsync(stream, cancellationToken).ConfigureAwait(false);
        return new KvBucket(this, config.Bucket, info);
    }

    /// <summary>Changes a bucket's settings. Markers can be switched on (and their TTL changed), per-key TTL never off.</summary>
    /// <exception cref="ArgumentException">Invalid settings (as for <see cref="CreateBucketAsync"/>); thrown before any request.</exception>
    public async ValueTask<KvBucket> UpdateBucketAsync(KvBucketConfig config, CancellationToken cancellationToken = default)
    {
        var stream = await ToStreamConfigAsync(config, cancellationToken).ConfigureAwait(false);
        var info = await JetStream.UpdateStreamAsync(stream, cancellationToken).ConfigureAwait(false);
        return new KvBucket(this, config.Bucket, info);
    }

    /// <summary>Binds to an existing bucket.</summary>
    /// <exception cref="JetStreamApiException">10059 when the bucket does not exist.</exception>
    public async ValueTask<KvBucket> GetBucketAsync(string bucket, CancellationToken cancellationToken = default)
    {
        KvNames.ValidateBucket(bucket);
        var info = await JetStream.GetStreamInfoAsync(StreamName(bucket), cancellationToken).ConfigureAwait(false);
        return new KvBucket(this, bucket, info);
    }

    /// <summary>Configuration and counters of a bucket.</summary>
    public async ValueTask<KvBucketStatus> GetStatusAsync(string bucket, CancellationToken cancellationToken = default)
    {
        KvNames.ValidateBucket(bucket);
        var info = await JetStream.GetStreamInfoAsync(StreamName(bucket), cancellationToken).ConfigureAwait(false);
        return ToStatus(bucket, info);
    }

    /// <summary>Deletes a bucket and all its keys.</summary>
    public ValueTask<bool> DeleteBucketAsync(string bucket, CancellationToken cancellationToken = default)
    {
        KvNames.ValidateBucket(bucket);
        return JetStream.DeleteStreamAsync(StreamName(bucket), cancellationToken);
    }

    /// <summary>Names of all buckets.</summary>
    public async IAsyncEnumerable<string> ListBucketNamesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var stream in JetStream.ListStreamNamesAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (stream.StartsWith("KV_", StringComparison.Ordinal))
            {
                yield return stream[3..];
            }
        }
    }

    internal static string StreamName(string bucket) => "KV_" + bucket;

    internal static KvBucketStatus ToStatus(string bucket, StreamInfo info)
    {
        var c = info.Config;
        var origin = c.Mirror?.Name;
        return new KvBucketStatus
        {
            Bucket = bucket,
            Messages = info.State.Messages,
            Keys = info.State.NumSubjects,
            Bytes = info.State.Bytes,
            History = c.MaxMsgsPerSubject,
            MaxAge = c.MaxAge,
            LimitMarkerTtl = c.SubjectDeleteMarkerTtl,
            AllowMsgTtl = c.AllowMsgTtl,
            NumDeleted = info.State.NumDeleted,
            IsMirror = c.Mirror is not null,
            MirrorOrigin = origin is not null && origin.StartsWith("KV_", StringComparison.Ordinal) ? origin[3..] : origin,
            Storage = c.Storage == "memory" ? KvStorage.Memory : KvStorage.File,
            Replicas = c.Replicas,
            StreamInfo = info,
        };
    }

    private async ValueTask<StreamConfig> ToStreamConfigAsync(KvBucketConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        KvNames.ValidateBucket(config.Bucket, nameof(config));
        if (config.History is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(config), config.History, "History must be between 1 and 64");
        }

        if (config.LimitMarkerTtl != TimeSpan.Zero && config.LimitMarkerTtl < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(config), config.LimitMarkerTtl, "LimitMarkerTtl must be at least 1 second (or zero for no markers)");
        }

        if (config.MaxAge < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(config), config.MaxAge, "MaxAge must not be negative");
        }

        if (config.Replicas is < 1 or > 5)
        {
            throw new ArgumentOutOfRangeException(nameof(config), config.Replicas, "Replicas must be between 1 and 5");
        }

        if (config.AllowMsgTtl == false && config.LimitMarkerTtl > TimeSpan.Zero)
        {
            // Markers need per-message TTL on the stream: honouring one setting would silently override the other.
            throw new ArgumentException(
                $"{nameof(KvBucketConfig.AllowMsgTtl)} = false contradicts {nameof(KvBucketConfig.LimitMarkerTtl)} = {config.LimitMarkerTtl}: limit markers need per-key TTL. " +
                $"Leave {nameof(KvBucketConfig.AllowMsgTtl)} unset (or true) to use markers, or set {nameof(KvBucketConfig.LimitMarkerTtl)} to zero.",
                nameof(config));
        }

        var isMirror = config.Mirror is not null;
        if (isMirror && config.LimitMarkerTtl > TimeSpan.Zero)
        {
            throw new ArgumentException("Limit markers cannot be enabled on a mirror (the server forbids it); the origin's markers are mirrored", nameof(config));
        }

        var wantsTtl = config.LimitMarkerTtl > TimeSpan.Zero || config.AllowMsgTtl == true || (isMirror && config.AllowMsgTtl != false);
        if (wantsTtl)
        {
            var api = await JetStream.GetApiInfoAsync(cancellationToken).ConfigureAwait(false);
            if (api.Api.Level < 1)
            {
                throw new NotSupportedException($"Per-key TTL and limit markers need JetStream API level 1 (nats-server 2.11+); this server reports level {api.Api.Level}");
            }
        }

        return new StreamConfig
        {
            Name = StreamName(config.Bucket),
            Description = config.Description,
            Subjects = isMirror ? null : [$"$KV.{config.Bucket}.>"],
            MaxMsgsPerSubject = config.History,
            MaxBytes = config.MaxBytes,
            MaxAge = config.MaxAge,
            MaxMsgSize = config.MaxValueSize,
            Storage = config.Storage == KvStorage.Memory ? "memory" : "file",
            Replicas = config.Replicas,
            Compression = config.Compression ? "s2" : "none",
            Metadata = config.Metadata,
            Discard = "new",
            AllowRollup = true,
            DenyDelete = true,
            AllowDirect = true,
            DuplicateWindow = config.MaxAge > TimeSpan.Zero && config.MaxAge < TimeSpan.FromMinutes(2) ? config.MaxAge : TimeSpan.FromMinutes(2),
            AllowMsgTtl = wantsTtl,
            SubjectDeleteMarkerTtl = config.LimitMarkerTtl,
            MirrorDirect = isMirror,
            Mirror = config.Mirror is { } m ? ToSource(m, into: null) : null,
            Sources = config.Sources is { Count: > 0 } s ? s.Select(source => ToSource(source, into: config.Bucket)).ToList() : null,
        };
    }

    /// <summary>
    /// A mirror keeps the origin's subjects (reads go through the origin's name); a source's keys are rewritten into
    /// this bucket's subjects, or they would be stored where no key of this bucket can reach them.
    /// </summary>
    private static StreamSource ToSource(KvMirror m, string? into)
    {
        KvNames.ValidateBucket(m.Bucket, nameof(m));
        return new StreamSource
        {
            Name = StreamName(m.Bucket),
            External = m.Domain is null ? null : new ExternalStream { Api = $"$JS.{m.Domain}.API" },
            SubjectTransforms = into is null || into == m.Bucket
                ? null
                : [new SubjectTransform { Source = $"$KV.{m.Bucket}.>", Destination = $"$KV.{into}.>" }],
        };
    }
}

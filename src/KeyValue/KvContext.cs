using System.Runtime.CompilerServices;
using CacheProvider.KeyValue.Internal;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace CacheProvider.KeyValue;

/// <summary>
/// Creates, binds, inspects and deletes KV buckets (streams named <c>KV_&lt;bucket&gt;</c>) on a NATS.Net connection.
/// Cheap to create; every context on one connection shares that connection's single reply subscription.
/// </summary>
public sealed class KvContext
{
    /// <summary>Server version from which per-key TTL expiry and markers are reliable (fixed TTL expiry after restart).</summary>
    public static readonly Version MinimumServerVersion = new(2, 12, 1);

    /// <summary>Creates a context on <paramref name="connection"/> (which it does not own).</summary>
    public KvContext(INatsConnection connection, KvContextOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Options = options ?? new KvContextOptions();
        if (Options.ReadRetryBudget < TimeSpan.Zero || Options.WriteRetryBudget < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Retry budgets must not be negative");
        }

        if (Options.RequestTimeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), timeout, "RequestTimeout must be positive");
        }

        Api = new JsApi(connection, Options);
    }

    /// <summary>The connection.</summary>
    public INatsConnection Connection => Api.Connection;

    /// <summary>NATS.Net's JetStream context on the same connection (streams, consumers, anything beyond KV).</summary>
    public INatsJSContext JetStream => Api.Js;

    /// <summary>The settings.</summary>
    public KvContextOptions Options { get; }

    /// <summary>Clock of the buckets this context binds (<see cref="KvContextOptions.TimeProvider"/>).</summary>
    public TimeProvider TimeProvider => Options.TimeProvider;

    internal JsApi Api { get; }

    /// <summary>The server's version once connected (null before the first connect); checks nothing.</summary>
    public Version? ServerVersion => Connection.ServerInfo?.Version is { } v && Version.TryParse(v.Split('-', '+')[0], out var parsed) ? parsed : null;

    /// <summary>Connects (if not connected yet) and returns the server's version.</summary>
    /// <exception cref="KvAuthenticationException">The server refused the credentials or the TLS identity.</exception>
    /// <exception cref="NatsException">The server could not be reached.</exception>
    public async ValueTask<Version> ConnectAsync(CancellationToken cancellationToken = default)
    {
        if (Connection.ConnectionState != NatsConnectionState.Open)
        {
            try
            {
                await Connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (NatsException ex) when (AuthenticationFailure(ex) is { } reason)
            {
                throw new KvAuthenticationException(ServerUrl(), reason, ex);
            }
        }

        return ServerVersion ?? new Version(0, 0, 0);
    }

    // NATS.Net reports a refusal as "can not start to connect" wrapping the server's -ERR or the TLS failure.
    private static string? AuthenticationFailure(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case NatsServerException s when s.Message.Contains("Authorization Violation", StringComparison.OrdinalIgnoreCase)
                    || s.Message.Contains("Authentication", StringComparison.OrdinalIgnoreCase)
                    || s.Message.Contains("User Authentication Expired", StringComparison.OrdinalIgnoreCase):
                    return s.Message.Replace("Server error: ", string.Empty, StringComparison.Ordinal);
                case System.Security.Authentication.AuthenticationException a:
                    return "TLS: " + a.Message;
                case NatsException n when n.Message.Contains("TLS", StringComparison.Ordinal) && n.InnerException is null:
                    return n.Message;
            }

            if (e.Message.Contains("certificate required", StringComparison.OrdinalIgnoreCase))
            {
                return "TLS: the server requires a client certificate";
            }
        }

        return null;
    }

    private string ServerUrl()
    {
        var url = Connection.Opts.Url;
        var at = url.IndexOf('@', StringComparison.Ordinal);
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        return at > 0 && scheme >= 0 && at > scheme ? url[..(scheme + 3)] + url[(at + 1)..] : url;
    }

    /// <summary>Creates a bucket, or returns the existing one if its configuration is identical.</summary>
    /// <exception cref="ArgumentException">
    /// Invalid name or settings, e.g. <see cref="KvBucketConfig.AllowMsgTtl"/> = false with a
    /// <see cref="KvBucketConfig.LimitMarkerTtl"/>; thrown before any request.
    /// </exception>
    /// <exception cref="NatsJSApiException">The server refused (e.g. err_code 10058: a different bucket of that name exists).</exception>
    public async ValueTask<KvBucket> CreateBucketAsync(KvBucketConfig config, CancellationToken cancellationToken = default)
    {
        var stream = await ToStreamConfigAsync(config, cancellationToken).ConfigureAwait(false);
        var info = await Api.CreateStreamAsync(stream, cancellationToken).ConfigureAwait(false);
        return new KvBucket(this, config.Bucket, info);
    }

    /// <summary>Changes a bucket's settings. Markers can be switched on (and their TTL changed), per-key TTL never off.</summary>
    /// <exception cref="ArgumentException">Invalid settings (as for <see cref="CreateBucketAsync"/>); thrown before any request.</exception>
    public async ValueTask<KvBucket> UpdateBucketAsync(KvBucketConfig config, CancellationToken cancellationToken = default)
    {
        var stream = await ToStreamConfigAsync(config, cancellationToken).ConfigureAwait(false);
        var info = await Api.UpdateStreamAsync(stream, cancellationToken).ConfigureAwait(false);
        return new KvBucket(this, config.Bucket, info);
    }

    /// <summary>Binds to an existing bucket.</summary>
    /// <exception cref="NatsJSApiException">err_code 10059 when the bucket does not exist.</exception>
    public async ValueTask<KvBucket> GetBucketAsync(string bucket, CancellationToken cancellationToken = default)
    {
        KvNames.ValidateBucket(bucket);
        var info = await Api.GetStreamInfoAsync(StreamName(bucket), cancellationToken).ConfigureAwait(false);
        return new KvBucket(this, bucket, info);
    }

    /// <summary>Configuration and counters of a bucket.</summary>
    public async ValueTask<KvBucketStatus> GetStatusAsync(string bucket, CancellationToken cancellationToken = default)
    {
        KvNames.ValidateBucket(bucket);
        var info = await Api.GetStreamInfoAsync(StreamName(bucket), cancellationToken).ConfigureAwait(false);
        return ToStatus(bucket, info);
    }

    /// <summary>Deletes a bucket and all its keys.</summary>
    public ValueTask<bool> DeleteBucketAsync(string bucket, CancellationToken cancellationToken = default)
    {
        KvNames.ValidateBucket(bucket);
        return Api.Js.DeleteStreamAsync(StreamName(bucket), cancellationToken);
    }

    /// <summary>Names of all buckets.</summary>
    public async IAsyncEnumerable<string> ListBucketNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var stream in Api.Js.ListStreamNamesAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
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
            Messages = (ulong)Math.Max(0, info.State.Messages),
            Keys = info.State.NumSubjects,
            Bytes = (ulong)Math.Max(0, info.State.Bytes),
            History = c.MaxMsgsPerSubject,
            MaxAge = c.MaxAge,
            LimitMarkerTtl = c.SubjectDeleteMarkerTTL,
            AllowMsgTtl = c.AllowMsgTTL,
            AllowAtomicPublish = c.AllowAtomicPublish,
            NumDeleted = info.State.NumDeleted,
            IsMirror = c.Mirror is not null,
            MirrorOrigin = origin is not null && origin.StartsWith("KV_", StringComparison.Ordinal) ? origin[3..] : origin,
            Storage = c.Storage == StreamConfigStorage.Memory ? KvStorage.Memory : KvStorage.File,
            Replicas = c.NumReplicas,
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
        if (isMirror && config.AllowAtomicPublish)
        {
            throw new ArgumentException("Atomic publish cannot be enabled on a mirror (the server forbids it)", nameof(config));
        }

        if (isMirror && config.LimitMarkerTtl > TimeSpan.Zero)
        {
            throw new ArgumentException("Limit markers cannot be enabled on a mirror (the server forbids it); the origin's markers are mirrored", nameof(config));
        }

        var wantsTtl = config.LimitMarkerTtl > TimeSpan.Zero || config.AllowMsgTtl == true || (isMirror && config.AllowMsgTtl != false);
        if (wantsTtl)
        {
            var account = await Api.RetryReadAsync(ct => Api.Js.GetAccountInfoAsync(ct), cancellationToken).ConfigureAwait(false);
            if (account.Api.Level < 1)
            {
                throw new NotSupportedException($"Per-key TTL and limit markers need JetStream API level 1 (nats-server 2.11+); this server reports level {account.Api.Level}");
            }
        }

        List<StreamSource>? sources = null;
        if (config.Sources is { Count: > 0 } s)
        {
            sources = new List<StreamSource>(s.Count);
            foreach (var source in s)
            {
                sources.Add(ToSource(source, into: config.Bucket));
            }
        }

        return new StreamConfig
        {
            Name = StreamName(config.Bucket),
            Description = config.Description,
            Subjects = isMirror ? null : [$"$KV.{config.Bucket}.>"],
            MaxMsgs = -1,
            MaxMsgsPerSubject = config.History,
            MaxBytes = config.MaxBytes,
            MaxAge = config.MaxAge,
            MaxMsgSize = config.MaxValueSize,
            Storage = config.Storage == KvStorage.Memory ? StreamConfigStorage.Memory : StreamConfigStorage.File,
            NumReplicas = config.Replicas,
            Compression = config.Compression ? StreamConfigCompression.S2 : StreamConfigCompression.None,
            Metadata = config.Metadata is null ? null : new Dictionary<string, string>(config.Metadata),
            Discard = StreamConfigDiscard.New,
            AllowRollupHdrs = true,
            DenyDelete = true,
            AllowDirect = true,
            DuplicateWindow = config.MaxAge > TimeSpan.Zero && config.MaxAge < TimeSpan.FromMinutes(2) ? config.MaxAge : TimeSpan.FromMinutes(2),
            AllowMsgTTL = wantsTtl,
            AllowAtomicPublish = config.AllowAtomicPublish,
            SubjectDeleteMarkerTTL = config.LimitMarkerTtl,
            MirrorDirect = isMirror,
            Mirror = config.Mirror is { } m ? ToSource(m, into: null) : null,
            Sources = sources,
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
            External = m.Domain is null ? null : new ExternalStreamSource { Api = $"$JS.{m.Domain}.API" },
            SubjectTransforms = into is null || into == m.Bucket
                ? null
                : [new SubjectTransform { Src = $"$KV.{m.Bucket}.>", Dest = $"$KV.{into}.>" }],
        };
    }
}

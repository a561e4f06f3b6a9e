using System.Text.Json;
using CacheProvider.Grains.Clustering.Internal;
using CacheProvider.Grains.Internal;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using Orleans;
using Orleans.Configuration;
using Orleans.GrainDirectory;
using Orleans.Runtime;

namespace CacheProvider.Grains;

/// <summary>
/// Orleans' <see cref="IGrainDirectory"/> on NATS KV: one key per grain, <c>d.&lt;service&gt;.&lt;cluster&gt;.&lt;grain id&gt;</c>,
/// holding its <see cref="GrainAddress"/> as JSON. Register creates the key with a compare-and-set, so it never
/// overwrites a live entry; registering with a previous address replaces only that exact entry, atomically; Unregister
/// removes only an entry with the same activation id (a compare-and-set purge whose tombstone removes itself).
/// Lookup is one direct get. Entries carry no TTL.
/// </summary>
public sealed partial class NatsGrainDirectory : IGrainDirectory, ILifecycleParticipant<ISiloLifecycle>
{
    private const int MaxRegisterAttempts = 64;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);
    private readonly NatsGrainDirectoryOptions _options;
    private readonly ClusterBucket _bucket;
    private readonly ILogger _logger;
    private readonly string _prefix;

    /// <summary>Creates the directory; nothing is sent before the silo starts or the first call.</summary>
    /// <param name="name">The directory's name (<c>[GrainDirectory("name")]</c>; <c>default</c> serves all other grains).</param>
    /// <param name="options">Bucket and connection settings.</param>
    /// <param name="clusterOptions">The silo's ServiceId and ClusterId, which namespace the keys.</param>
    /// <param name="connection">The app's NATS.Net connection (not owned).</param>
    /// <param name="timeProvider">Clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="logger">Logger.</param>
    public NatsGrainDirectory(string name, NatsGrainDirectoryOptions options, ClusterOptions clusterOptions, INatsConnection connection, TimeProvider? timeProvider = null, ILogger<NatsGrainDirectory>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clusterOptions);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(clusterOptions.ServiceId, nameof(clusterOptions));
        ArgumentException.ThrowIfNullOrEmpty(clusterOptions.ClusterId, nameof(clusterOptions));
        Name = name;
        _options = options;
        ServiceId = clusterOptions.ServiceId;
        ClusterId = clusterOptions.ClusterId;
        _prefix = "d." + KeyEncoder.EncodeToken(ServiceId) + "." + KeyEncoder.EncodeToken(ClusterId) + ".";
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var context = new KvContext(connection, new KvContextOptions { TimeProvider = timeProvider ?? TimeProvider.System });
        _bucket = new ClusterBucket(context, options.Bucket, options.Replicas, options.Storage, needsAtomic: false, $"NATS grain directory '{name}'");
    }

    /// <summary>The directory's name.</summary>
    public string Name { get; }

    /// <summary>The service whose grains this directory holds.</summary>
    public string ServiceId { get; }

    /// <summary>The cluster whose grains this directory holds.</summary>
    public string ClusterId { get; }

    /// <summary>The bucket.</summary>
    public string Bucket => _options.Bucket;

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(OptionFormattingUtilities.Name<NatsGrainDirectory>(Name), ServiceLifecycleStage.RuntimeInitialize, StartAsync);
    }

    /// <summary>Creates (or checks) the bucket.</summary>
    /// <exception cref="OrleansConfigurationException">The bucket exists with a max age.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw Failure("Start", ex);
        }
    }

    /// <inheritdoc />
    public Task<GrainAddress?> Register(GrainAddress address) => Register(address, null, CancellationToken.None);

    /// <inheritdoc />
    public Task<GrainAddress?> Register(GrainAddress address, CancellationToken cancellationToken) => Register(address, null, cancellationToken);

    /// <inheritdoc />
    public Task<GrainAddress?> Register(GrainAddress address, GrainAddress? previousAddress) => Register(address, previousAddress, CancellationToken.None);

    /// <summary>
    /// Registers <paramref name="address"/> unless the grain has a live entry; with <paramref name="previousAddress"/>,
    /// an entry with that activation id is replaced (atomically: a compare-and-set on the entry's revision).
    /// </summary>
    /// <returns>The registered address: <paramref name="address"/>, or the entry that stays.</returns>
    public async Task<GrainAddress?> Register(GrainAddress address, GrainAddress? previousAddress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var key = Key(address.GrainId);
        var value = JsonSerializer.SerializeToUtf8Bytes(address, Json);
        try
        {
            var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);

            // A replica's answer may be stale: a compare-and-set on what it showed then fails and the loop reads again.
            // An entry that would be returned without a write is confirmed by the leader on replicated buckets (a
            // lagging replica could show one already replaced). After a write with no reply, the next read shows
            // whether it was ours.
            var replicated = bucket.Info.Config.NumReplicas > 1;
            for (var attempt = 0; attempt < MaxRegisterAttempts; attempt++)
            {
                var last = await bucket.GetLastAsync(key, KvReadMode.Direct, cancellationToken).ConfigureAwait(false);
                if (last is { IsValue: true } && replicated && !Replaceable(Parse(last), previousAddress))
                {
                    last = await bucket.GetLastAsync(key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
                }

                ulong expected = last?.Revision ?? 0;
                if (last is { IsValue: true })
                {
                    var current = Parse(last);
                    if (!Replaceable(current, previousAddress))
                    {
                        return current;
                    }
                }

                try
                {
                    await bucket.PutAsync(key, new System.Buffers.ReadOnlySequence<byte>(value), new KvPutOptions { ExpectedRevision = expected }, cancellationToken).ConfigureAwait(false);
                    return address;
                }
                catch (KvWrongRevisionException)
                {
                }
                catch (KvWriteOutcomeUnknownException)
                {
                }
            }

            throw new NatsClusteringException($"Grain directory '{Name}' Register gave up after {MaxRegisterAttempts} attempts: the entry kept changing under it (Bucket={Bucket})");
        }
        catch (NatsException ex)
        {
            throw Failure("Register", ex);
        }
    }

    private static bool Replaceable(GrainAddress current, GrainAddress? previousAddress) =>
        previousAddress is not null && current.ActivationId == previousAddress.ActivationId;

    /// <inheritdoc />
    public Task Unregister(GrainAddress address) => Unregister(address, CancellationToken.None);

    /// <summary>Removes the grain's entry if it has <paramref name="address"/>'s activation id; otherwise does nothing.</summary>
    public async Task Unregister(GrainAddress address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        var key = Key(address.GrainId);
        try
        {
            var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var last = await bucket.GetLastAsync(key, KvReadMode.Direct, cancellationToken).ConfigureAwait(false);
                if (last is not { IsValue: true } || Parse(last).ActivationId != address.ActivationId)
                {
                    return;
                }

                try
                {
                    await bucket.PurgeAsync(key, _options.RemovedTombstoneTtl, last.Revision, cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (KvWrongRevisionException)
                {
                }
            }
        }
        catch (NatsException ex)
        {
            throw Failure("Unregister", ex);
        }
    }

    /// <inheritdoc />
    public Task<GrainAddress?> Lookup(GrainId grainId) => Lookup(grainId, CancellationToken.None);

    /// <summary>The grain's entry, or null: one direct get.</summary>
    public async Task<GrainAddress?> Lookup(GrainId grainId, CancellationToken cancellationToken)
    {
        try
        {
            var bucket = await _bucket.GetAsync(cancellationToken).ConfigureAwait(false);
            var entry = await bucket.GetAsync(Key(grainId), KvReadMode.Direct, cancellationToken).ConfigureAwait(false);
            return entry is null ? null : Parse(entry);
        }
        catch (NatsException ex)
        {
            throw Failure("Lookup", ex);
        }
    }

    /// <summary>
    /// Does nothing, as Orleans' Redis directory: the runtime unregisters an entry on a dead silo when a lookup finds
    /// it, and replaces it on the next registration.
    /// </summary>
    public Task UnregisterSilos(List<SiloAddress> siloAddresses) => Task.CompletedTask;

    /// <inheritdoc cref="UnregisterSilos(List{SiloAddress})"/>
    public Task UnregisterSilos(List<SiloAddress> siloAddresses, CancellationToken cancellationToken) => Task.CompletedTask;

    private string Key(GrainId grainId) => _prefix + KeyEncoder.EncodeToken(grainId.ToString());

    private static GrainAddress Parse(KvEntry entry) =>
        JsonSerializer.Deserialize<GrainAddress>(entry.Value.Span, Json) ?? throw new InvalidDataException($"Directory entry '{entry.Key}' is empty");

    private NatsClusteringException Failure(string operation, NatsException exception)
    {
        LogFailure(_logger, exception, operation, Name);
        return new NatsClusteringException($"Grain directory '{Name}' {operation} failed: ServiceId={ServiceId} ClusterId={ClusterId} Bucket={Bucket}. {exception.GetType().FullName}: {exception.Message}");
    }

    [LoggerMessage(EventId = 50, Level = LogLevel.Warning, Message = "Grain directory {Name} {Operation} failed")]
    private static partial void LogFailure(ILogger logger, Exception exception, string operation, string name);
}

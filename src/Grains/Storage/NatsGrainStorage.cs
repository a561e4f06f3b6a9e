using System.Globalization;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Grains.Internal;
using NATS.Client.Core;
using NATS.Client.JetStream;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization.Serializers;

namespace CacheProvider.Grains;

/// <summary>
/// Grain state on NATS KV with Orleans' <c>IGrainStorage</c> semantics: ETag = KV revision, strict optimistic
/// concurrency (<see cref="InconsistentStateException"/>), delete-on-clear or retained tombstones, and an optional
/// TTL written as <c>Nats-TTL</c> on every write: per grain (a state implementing <see cref="IStateTimeToLive"/>),
/// else per state name or type. Keys are <c>{serviceId}.{stateName}.{grainType}.{grainKey}</c>, each token
/// injectively encoded.
/// </summary>
public sealed partial class NatsGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly NatsGrainStorageOptions _options;
    private readonly KvContext _context;
    private readonly IGrainStorageSerializer _serializer;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly StateTtlResolver _ttl;
    private readonly KvBucketHandle _bucket;
    private readonly IActivatorProvider? _activators;
    private readonly StateChangeDeactivator? _deactivator;
    private GrainStateWatcher? _watcher;
    private long _renewals;

    /// <summary>Creates the provider. Nothing is sent until <see cref="StartAsync"/> or the first operation.</summary>
    /// <param name="name">Provider name (Orleans' storage name; appears in exception messages).</param>
    /// <param name="options">Settings.</param>
    /// <param name="connection">The NATS connection.</param>
    /// <param name="serializer">Serializer; null = <see cref="NatsGrainStorageOptions.GrainStorageSerializer"/> or System.Text.Json.</param>
    /// <param name="timeProvider">Clock for TTL math.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="activatorProvider">Orleans' activators, which build the default state after a missing read or a clear; null = <c>new T()</c> (or null for types without a parameterless constructor).</param>
    /// <param name="grainContextAccessor">
    /// The silo's accessor of the current activation: with it, a read for an activation's own state registers that
    /// activation for deactivation on a change (<see cref="NatsGrainStorageOptions.DeactivateOnStateChange"/>); null = no
    /// deactivation (outside a silo).
    /// </param>
    public NatsGrainStorage(string name, NatsGrainStorageOptions options, INatsConnection connection, IGrainStorageSerializer? serializer = null, TimeProvider? timeProvider = null, ILogger<NatsGrainStorage>? logger = null, IActivatorProvider? activatorProvider = null, IGrainContextAccessor? grainContextAccessor = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(options.ServiceId, nameof(options));
        Name = name;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _context = new KvContext(connection, new KvContextOptions { TimeProvider = _time });
        _serializer = serializer ?? options.GrainStorageSerializer ?? new NatsJsonGrainStorageSerializer();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _activators = activatorProvider;
        _ttl = new StateTtlResolver(options);
        Deactivation = new DeactivationPolicy(options, _ttl);
        _deactivator = grainContextAccessor is null ? null : new StateChangeDeactivator(this, grainContextAccessor, Deactivation);
        KeyPrefix = KeyEncoder.EncodeToken(options.ServiceId) + ".";
        _bucket = new KvBucketHandle(_context, new KvBucketConfig
        {
            Bucket = options.Bucket,
            Description = "Orleans grain state (CacheProvider.Grains)",
            History = 1,
            LimitMarkerTtl = options.LimitMarkerTtl,
            Storage = options.Storage,
            Replicas = options.Replicas,
        }, (bucket, refusal) =>
        {
            // Exists with other settings (e.g. another marker TTL): use it as it is, but it must allow per-key TTL.
            if (!bucket.AllowsTtl || bucket.History != 1)
            {
                throw new InvalidOperationException($"Bucket '{options.Bucket}' exists but does not allow per-key TTL with history 1: {refusal.Message}", refusal);
            }

            _logger.LogInformation("Grain storage {Name} uses existing bucket {Bucket} ({Reason})", name, options.Bucket, refusal.Message);
        });
    }

    /// <summary>Provider name.</summary>
    public string Name { get; }

    /// <summary>The service id every key starts with.</summary>
    public string ServiceId => _options.ServiceId;

    /// <summary>The settings.</summary>
    public NatsGrainStorageOptions Options => _options;

    /// <summary>Encoded service id token plus <c>.</c>: every key of this provider starts with it.</summary>
    public string KeyPrefix { get; }

    /// <summary>TTL renewals done by reads so far.</summary>
    public long Renewals => Interlocked.Read(ref _renewals);

    internal KvContext Context => _context;

    /// <summary>The serializer in use.</summary>
    internal IGrainStorageSerializer Serializer => _serializer;

    internal TimeProvider Time => _time;

    internal ILogger Logger => _logger;

    internal DeactivationPolicy Deactivation { get; }

    internal GrainStateWatcher? CurrentWatcher => Volatile.Read(ref _watcher);

    /// <summary>Lets the silo's configurator say which activations their lifecycle detaches.</summary>
    internal void UseActivationWatches(ActivationWatchConfigurator configurator)
    {
        if (_deactivator is not null)
        {
            _deactivator.Configurator = configurator;
        }
    }

    /// <summary>An activation's lifecycle stopped: end its registration for <paramref name="stateName"/>.</summary>
    internal void DetachActivation(string stateName, IGrainContext context) => _deactivator?.Detach(stateName, context);

    /// <summary>
    /// This storage's watch of its keys (one bucket watch per storage and silo). The storage registers the activations
    /// it reads for with it by itself (<see cref="NatsGrainStorageOptions.DeactivateOnStateChange"/>); register by hand
    /// only for keys an activation keeps copies of that are not its own state (see <see cref="GrainStateWatcher"/>).
    /// In a silo the same instance is the keyed <see cref="GrainStateWatcher"/> service named after the storage.
    /// </summary>
    public GrainStateWatcher Watcher
    {
        get
        {
            if (Volatile.Read(ref _watcher) is { } watcher)
            {
                return watcher;
            }

            // The constructor attaches it (first one wins the race; a losing instance is never started).
            _ = new GrainStateWatcher(this, _options.Watch, _logger, attachIfNone: true);
            return Volatile.Read(ref _watcher)!;
        }
    }

    /// <summary>Creates or binds the bucket (idempotent; operations call it on first use).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default) => await GetBucketAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(OptionFormattingUtilities.Name<NatsGrainStorage>(Name), _options.InitStage, StartAsync);

        // The watch opens with the silo when any state may be watched (also lazily on the first watched read) and
        // closes when the silo stops, after its activations are gone.
        lifecycle.Subscribe(
            OptionFormattingUtilities.Name<GrainStateWatcher>(Name),
            Math.Max(_options.InitStage, ServiceLifecycleStage.ApplicationServices),
            ct => _deactivator is not null && Deactivation.AnyEnabled ? Watcher.StartAsync(ct) : Task.CompletedTask,
            ct => Volatile.Read(ref _watcher) is { } w ? w.StopAsync(ct) : Task.CompletedTask);
    }

    /// <summary>The KV key of a state: <c>{serviceId}.{stateName}.{grainType}.{grainKey}</c>, tokens encoded (<see cref="NatsGrainStateKeys"/>).</summary>
    public string GetStateKey(string stateName, GrainId grainId) => NatsGrainStateKeys.GetStateKeyAfterPrefix(KeyPrefix, stateName, grainId);

    /// <summary>The configured TTL window of a state name and type (what readers are promised), or null when it never expires.</summary>
    public TimeSpan? GetStateTtl<T>(string stateName) => _ttl.GetWindow(stateName, typeof(T));

    /// <summary>
    /// The TTL window a write of <paramref name="state"/> uses: its own <see cref="IStateTimeToLive.TimeToLive"/>, else
    /// the configured one (<see cref="GetStateTtl{T}(string)"/>); null when it never expires.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The state's own TTL is zero or negative.</exception>
    public TimeSpan? GetStateTtl<T>(string stateName, T? state) => _ttl.GetWindow(stateName, state);

    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <inheritdoc />
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => ClearStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        // The activation a read is for is known only here, before the first await: register it before reading, so a
        // change that lands between the read and the activation's first call is held until the read's revision is
        // known, and reported if it is newer.
        var watched = _deactivator?.TryAttach<T>(stateName, grainId) ?? false;
        return ReadStateAsync(stateName, grainId, grainState, watched, cancellationToken);
    }

    private async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, bool watched, CancellationToken cancellationToken)
    {
        try
        {
            if (watched && !Watcher.IsStarted)
            {
                // Opened after the registration and before the read: it delivers everything after the read's revision.
                await Watcher.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            await ReadCoreAsync(stateName, grainId, grainState, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw StorageFailure("ReadStateAsync", stateName, grainId, ex);
        }
    }

    private async Task ReadCoreAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var bucket = await GetBucketAsync(cancellationToken).ConfigureAwait(false);
        var key = GetStateKey(stateName, grainId);
        using var scope = BeginOperation(key);
        var last = await bucket.GetLastAsync(key, _options.ReadMode, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        if (last is { IsValue: true } && !last.IsExpiredAt(now))
        {
            var revision = last.Revision;
            var state = _serializer.Deserialize<T>(last.Value);

            // The window is the stored state's own TTL, else the configured one: known only once the value is read.
            if (_options.RefreshTtlOnRead && last.ExpiresAt is { } expiresAt && _ttl.TryGetWindow(stateName, state) is { } w && expiresAt - now < w)
            {
                try
                {
                    revision = await bucket.UpdateAsync(key, last.Value, revision, _ttl.ToStoredTtl(w), cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref _renewals);
                }
                catch (KvWrongRevisionException)
                {
                    // Someone wrote meanwhile: return what is there now, without renewing.
                    last = await bucket.GetLastAsync(key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
                    if (last is not { IsValue: true } || last.IsExpiredAt(_time.GetUtcNow()))
                    {
                        SetEmpty(grainState, last, scope);
                        return;
                    }

                    revision = last.Revision;
                    state = _serializer.Deserialize<T>(last.Value);
                }
            }

            grainState.State = state;
            grainState.ETag = revision.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
            scope.Complete(revision);
            return;
        }

        SetEmpty(grainState, last, scope);
    }

    /// <inheritdoc />
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        try
        {
            await WriteCoreAsync(stateName, grainId, grainState, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw StorageFailure("WriteStateAsync", stateName, grainId, ex);
        }
    }

    private async Task WriteCoreAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var bucket = await GetBucketAsync(cancellationToken).ConfigureAwait(false);
        var key = GetStateKey(stateName, grainId);
        var ttl = StoredTtl(stateName, grainState.State);
        var value = _serializer.Serialize(grainState.State).ToMemory();
        using var scope = BeginOperation(key);
        ulong revision;
        if (!string.IsNullOrEmpty(grainState.ETag))
        {
            var expected = ParseETagOrThrow("WriteStateAsync", stateName, grainId, grainState.ETag);
            try
            {
                revision = await bucket.UpdateAsync(key, value, expected, ttl, cancellationToken).ConfigureAwait(false);
            }
            catch (KvWrongRevisionException ex)
            {
                throw Conflict("WriteStateAsync", stateName, grainId, grainState.ETag, null, ex);
            }
        }
        else
        {
            revision = await CreateAsync(bucket, key, value, ttl, stateName, grainId, cancellationToken).ConfigureAwait(false);
        }

        grainState.ETag = revision.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        scope.Complete(revision);
    }

    /// <inheritdoc />
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        try
        {
            await ClearCoreAsync(stateName, grainId, grainState, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw StorageFailure("ClearStateAsync", stateName, grainId, ex);
        }
    }

    private async Task ClearCoreAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var bucket = await GetBucketAsync(cancellationToken).ConfigureAwait(false);
        var key = GetStateKey(stateName, grainId);
        var tombstoneTtl = _options.DeleteStateOnClear ? _options.DeleteTombstoneTtl : StoredTtl(stateName, grainState.State);
        using var scope = BeginOperation(key);
        ulong? revision = null;
        if (!string.IsNullOrEmpty(grainState.ETag))
        {
            var expected = ParseETagOrThrow("ClearStateAsync", stateName, grainId, grainState.ETag);
            try
            {
                revision = await bucket.PurgeAsync(key, tombstoneTtl, expected, cancellationToken).ConfigureAwait(false);
            }
            catch (KvWrongRevisionException ex)
            {
                throw Conflict("ClearStateAsync", stateName, grainId, grainState.ETag, null, ex);
            }
        }
        else
        {
            var last = await bucket.GetLastAsync(key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
            if (IsRecord(last))
            {
                throw Conflict("ClearStateAsync", stateName, grainId, grainState.ETag, last!.Revision.ToString(CultureInfo.InvariantCulture), null);
            }

            if (!_options.DeleteStateOnClear)
            {
                try
                {
                    revision = await bucket.PurgeAsync(key, tombstoneTtl, last?.Revision ?? 0, cancellationToken).ConfigureAwait(false);
                }
                catch (KvWrongRevisionException ex)
                {
                    throw Conflict("ClearStateAsync", stateName, grainId, grainState.ETag, null, ex);
                }
            }
        }

        grainState.State = CreateDefault<T>();
        grainState.RecordExists = false;
        grainState.ETag = _options.DeleteStateOnClear ? null : revision?.ToString(CultureInfo.InvariantCulture);
        if (revision is { } r)
        {
            scope.Complete(r);
        }
    }

    private T CreateDefault<T>() => _activators is { } activators ? activators.GetActivator<T>().Create() : StateFactory<T>.Create();

    internal void AttachWatcher(GrainStateWatcher watcher, bool onlyIfNone)
    {
        if (onlyIfNone)
        {
            Interlocked.CompareExchange(ref _watcher, watcher, null);
        }
        else
        {
            Volatile.Write(ref _watcher, watcher);
        }
    }

    internal void DetachWatcher(GrainStateWatcher watcher) => Interlocked.CompareExchange(ref _watcher, null, watcher);

    /// <summary>The bucket (created or bound on first call).</summary>
    internal ValueTask<KvBucket> GetBucketAsync(CancellationToken cancellationToken) => _bucket.GetAsync(cancellationToken);

    private StateOperationScope BeginOperation(string key) => Volatile.Read(ref _watcher)?.BeginOperation(key) ?? default;

    private TimeSpan? StoredTtl<T>(string stateName, T? state) => _ttl.GetWindow(stateName, state) is { } w ? _ttl.ToStoredTtl(w) : null;

    private void SetEmpty<T>(IGrainState<T> grainState, KvEntry? last, StateOperationScope scope)
    {
        grainState.State = CreateDefault<T>();
        grainState.RecordExists = false;
        var retained = !_options.DeleteStateOnClear && IsTombstone(last);
        grainState.ETag = retained ? last!.Revision.ToString(CultureInfo.InvariantCulture) : null;
        if (last is not null)
        {
            scope.Complete(last.Revision);
        }
    }

    /// <summary>A client-written delete/purge tombstone that has not expired.</summary>
    private bool IsTombstone(KvEntry? last) =>
        last is { IsValue: false, MarkerReason: KvMarkerReason.None } && !last.IsExpiredAt(_time.GetUtcNow());

    /// <summary>Whether the key holds a record a null-ETag write or clear must not overwrite.</summary>
    private bool IsRecord(KvEntry? last)
    {
        if (last is null)
        {
            return false;
        }

        if (last.IsValue)
        {
            return !last.IsExpiredAt(_time.GetUtcNow());
        }

        return !_options.DeleteStateOnClear && IsTombstone(last);
    }

    private async Task<ulong> CreateAsync(KvBucket bucket, string key, ReadOnlyMemory<byte> value, TimeSpan? ttl, string stateName, GrainId grainId, CancellationToken cancellationToken)
    {
        try
        {
            return await bucket.UpdateAsync(key, value, 0, ttl, cancellationToken).ConfigureAwait(false);
        }
        catch (KvWrongRevisionException)
        {
            // Something occupies the key: a record (conflict), or a tombstone/marker/expired value we may replace.
        }

        var last = await bucket.GetLastAsync(key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
        if (IsRecord(last))
        {
            throw Conflict("WriteStateAsync", stateName, grainId, null, last!.Revision.ToString(CultureInfo.InvariantCulture), null);
        }

        try
        {
            return await bucket.UpdateAsync(key, value, last?.Revision ?? 0, ttl, cancellationToken).ConfigureAwait(false);
        }
        catch (KvWrongRevisionException ex)
        {
            throw Conflict("WriteStateAsync", stateName, grainId, null, null, ex);
        }
    }

    private ulong ParseETagOrThrow(string operation, string stateName, GrainId grainId, string eTag)
    {
        // Revision 0 would mean "key absent" to the server: never a valid ETag.
        if (ulong.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out var revision) && revision > 0)
        {
            return revision;
        }

        throw Conflict(operation, stateName, grainId, eTag, null, null);
    }

    private NatsGrainStorageException StorageFailure(string operation, string stateName, GrainId grainId, NatsException exception)
    {
        LogStorageFailure(_logger, exception, operation, Name, stateName, grainId.ToString());
        return new NatsGrainStorageException($"{operation} failed: ServiceId={_options.ServiceId} ProviderName={Name} GrainType={stateName} GrainId={grainId}. {exception.GetType().FullName}: {exception.Message}");
    }

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "{Operation} failed in grain storage {Provider}: state {StateName} grain {GrainId}")]
    private static partial void LogStorageFailure(ILogger logger, Exception exception, string operation, string provider, string stateName, string grainId);

    private InconsistentStateException Conflict(string operation, string stateName, GrainId grainId, string? eTag, string? storedETag, Exception? inner)
    {
        var message = $"Version conflict ({operation}): ServiceId={_options.ServiceId} ProviderName={Name} GrainType={stateName} GrainId={grainId} ETag={eTag}.";
        // No inner exception: it crosses the wire to the caller, and Orleans can only serialize exception types it
        // knows (a NATS client exception would reach the caller as CodecNotFoundException). The detail is logged.
        LogConflict(_logger, inner, operation, Name, stateName, grainId.ToString(), eTag);
        return new InconsistentStateException(message, storedETag, eTag);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Version conflict ({Operation}) in {Provider}: state {StateName} grain {GrainId} ETag {ETag}")]
    private static partial void LogConflict(ILogger logger, Exception? exception, string operation, string provider, string stateName, string grainId, string? eTag);
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

namespace CacheProvider.Grains.Caching.Internal;

/// <summary>
/// Silo singleton the cache grains share: the grain storage named <see cref="NatsCacheGrainOptions.StorageName"/>
/// (its <see cref="IGrainStorage"/> for reads and writes, which also registers each activation for deactivation on a
/// change; the <see cref="NatsGrainStorage"/> for the state key), and counters. Entries are <see cref="CacheEntryState"/>s under the state name
/// <see cref="StateName"/>, each written with its own TTL (<see cref="IStateTimeToLive"/>).
/// </summary>
internal sealed partial class CacheGrainStore
{
    public const string StateName = "cache";

    private readonly NatsGrainStorage _natsStorage;
    private readonly IGrainStorage _storage;
    private long _storageReads;
    private long _storageWrites;

    public CacheGrainStore(IServiceProvider services, IOptions<NatsCacheGrainOptions> options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Value;
        _natsStorage = services.GetRequiredKeyedService<NatsGrainStorage>(Options.StorageName);
        _storage = services.GetRequiredKeyedService<IGrainStorage>(Options.StorageName);
        Time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        Logger = (ILogger?)services.GetService<ILogger<CacheGrainStore>>() ?? NullLogger.Instance;
    }

    public NatsCacheGrainOptions Options { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    /// <summary>Storage reads done by activations (one per activation).</summary>
    public long StorageReads => Interlocked.Read(ref _storageReads);

    /// <summary>Storage writes (sets, sliding renewals, removals; a write retried after a conflict counts once per attempt).</summary>
    public long StorageWrites => Interlocked.Read(ref _storageWrites);

    /// <summary>The KV key of a grain's entry (what the watcher is told).</summary>
    public string KeyOf(GrainId grainId) => _natsStorage.GetStateKey(StateName, grainId);

    /// <summary>Call from the activation (synchronously on its scheduler): the storage registers the activation it reads for.</summary>
    public Task ReadAsync(GrainId grainId, IGrainState<CacheEntryState> state, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _storageReads);
        return _storage.ReadStateAsync(StateName, grainId, state, cancellationToken);
    }

    public Task WriteAsync(GrainId grainId, IGrainState<CacheEntryState> state, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _storageWrites);
        return _storage.WriteStateAsync(StateName, grainId, state, cancellationToken);
    }

    public Task ClearAsync(GrainId grainId, IGrainState<CacheEntryState> state, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _storageWrites);
        return _storage.ClearStateAsync(StateName, grainId, state, cancellationToken);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Cache entry {Key} in storage {Storage} could not be read as a cache entry; it reads as missing and the next set replaces it")]
    public static partial void LogUnreadable(ILogger logger, Exception exception, string key, string storage);
}

using Microsoft.Extensions.Options;

namespace CacheProvider.Grains.Caching.Internal;

/// <summary>
/// Checks at silo start that the storage the cache grains use keeps each entry's TTL as the grain writes it: no
/// renewal on read (it would extend entries past their deadlines) and delete on clear (a removed entry must not leave a
/// tombstone that lives on), and deactivation on a change of the cache's state.
/// </summary>
internal sealed class CacheStorageValidator(IOptionsMonitor<NatsGrainStorageOptions> storages) : IValidateOptions<NatsCacheGrainOptions>
{
    public ValidateOptionsResult Validate(string? name, NatsCacheGrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var storage = storages.Get(options.StorageName);
        if (storage.RefreshTtlOnRead)
        {
            return ValidateOptionsResult.Fail($"NATS grain storage '{options.StorageName}' renews TTLs on read (RefreshTtlOnRead): cache grains need a storage without it, e.g. AddNatsCacheGrains() with its own storage.");
        }

        if (!storage.DeleteStateOnClear)
        {
            return ValidateOptionsResult.Fail($"NATS grain storage '{options.StorageName}' keeps tombstones on clear (DeleteStateOnClear = false): cache grains need a storage that deletes, e.g. AddNatsCacheGrains() with its own storage.");
        }

        var byState = storage.DeactivateOnStateChangeByState.TryGetValue(CacheGrainStore.StateName, out var on) ? on : (bool?)null;
        if (byState == false || (byState is null && storage.DeactivateOnStateChange == StateChangeDeactivation.Never))
        {
            return ValidateOptionsResult.Fail($"NATS grain storage '{options.StorageName}' does not deactivate on a change of state '{CacheGrainStore.StateName}' (DeactivateOnStateChange): cache grains would serve values that expired or changed elsewhere.");
        }

        return ValidateOptionsResult.Success;
    }
}

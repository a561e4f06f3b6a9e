using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Metadata;
using Orleans.Runtime;
using Orleans.Storage;

namespace CacheProvider.Grains.Internal;

/// <summary>
/// Runs for each new activation, before it starts (Orleans' <see cref="IConfigureGrainContextProvider"/>, as
/// <c>[MayInterleave]</c> works). A grain class with <see cref="KeepActivationOnStateChangeAttribute"/> gets
/// <see cref="KeepActivationMarker"/>. A grain class whose constructor takes <c>[PersistentState]</c> states on a
/// <see cref="NatsGrainStorage"/> gets a small lifecycle observer whose stop ends the registrations the storage makes
/// when the activation reads those states — the cheapest hook Orleans offers (subscriptions must precede the lifecycle's
/// start, and a read happens during it). Other readers (<c>Grain&lt;T&gt;</c>, <see cref="IGrainStorage"/> called by the
/// grain) are detached through <see cref="IGrainContext.Deactivated"/> instead (<see cref="ActivationStateWatch"/>).
/// </summary>
internal sealed class ActivationWatchConfigurator(IServiceProvider services) : IConfigureGrainContextProvider
{
    private readonly ConcurrentDictionary<GrainType, TypeWatch?> _types = new();

    public bool TryGetConfigurator(GrainType grainType, GrainProperties properties, out IConfigureGrainContext configurator)
    {
        ArgumentNullException.ThrowIfNull(properties);
        if (properties.Properties.ContainsKey(KeepActivationOnStateChangeAttribute.PropertyKey))
        {
            configurator = KeepConfigurator.Instance;
            return true;
        }

        var watch = _types.GetOrAdd(grainType, Build);
        configurator = watch!;
        return watch is not null;
    }

    /// <summary>Whether activations of <paramref name="grainType"/> are detached by their lifecycle for this state.</summary>
    public bool CoveredByLifecycle(GrainType grainType, NatsGrainStorage storage, string stateName) =>
        _types.TryGetValue(grainType, out var watch) && watch is not null && watch.Covers(storage, stateName);

    private TypeWatch? Build(GrainType grainType)
    {
        if (services.GetService<GrainClassMap>() is not { } classes || !classes.TryGetGrainClass(grainType, out var grainClass))
        {
            return null;
        }

        List<(NatsGrainStorage, string)>? states = null;
        foreach (var constructor in grainClass.GetConstructors())
        {
            foreach (var parameter in constructor.GetParameters())
            {
                // Only states the storage will watch: an activation that never registers needs no end observer.
                if (parameter.GetCustomAttribute<PersistentStateAttribute>() is { } attribute
                    && services.GetKeyedService<IGrainStorage>(attribute.StorageName ?? NatsGrainsServiceCollectionExtensionsNames.Default) is NatsGrainStorage storage
                    && parameter.ParameterType is { IsGenericType: true } stateType && stateType.GetGenericArguments() is [var valueType]
                    && storage.Deactivation.ShouldWatch(attribute.StateName, valueType))
                {
                    (states ??= []).Add((storage, attribute.StateName));
                }
            }
        }

        return states is null || services.GetService<IGrainContextAccessor>() is not { } accessor ? null : new TypeWatch([.. states], accessor);
    }

    /// <summary>
    /// Per grain type: the NATS states its constructor declares. It is also the lifecycle observer of every activation
    /// of the type (one shared instance, so an activation pays only for its subscription): its stop runs on the
    /// stopping activation, which <see cref="IGrainContextAccessor"/> then returns.
    /// </summary>
    private sealed class TypeWatch((NatsGrainStorage Storage, string StateName)[] states, IGrainContextAccessor accessor) : IConfigureGrainContext, ILifecycleObserver
    {
        public bool Covers(NatsGrainStorage storage, string stateName)
        {
            foreach (var (s, n) in states)
            {
                if (ReferenceEquals(s, storage) && string.Equals(n, stateName, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }

        public void Configure(IGrainContext context) =>
            context.ObservableLifecycle.Subscribe(nameof(ActivationWatchConfigurator), GrainLifecycleStage.First, this);

        public Task OnStart(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task OnStop(CancellationToken cancellationToken = default)
        {
            if (accessor.GrainContext is { } context)
            {
                foreach (var (storage, stateName) in states)
                {
                    storage.DetachActivation(stateName, context);
                }
            }

            return Task.CompletedTask;
        }
    }

    private sealed class KeepConfigurator : IConfigureGrainContext
    {
        public static readonly KeepConfigurator Instance = new();

        public void Configure(IGrainContext context) => context.SetComponent(KeepActivationMarker.Instance);
    }
}

/// <summary>The component that says "never deactivate this activation on a state change".</summary>
internal sealed class KeepActivationMarker
{
    public static readonly KeepActivationMarker Instance = new();
}

/// <summary>Orleans' default storage name, as <c>[PersistentState]</c> without a storage name uses it.</summary>
internal static class NatsGrainsServiceCollectionExtensionsNames
{
    public const string Default = Orleans.Providers.ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME;
}

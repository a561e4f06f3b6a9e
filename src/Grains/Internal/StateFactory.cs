namespace CacheProvider.Grains.Internal;

/// <summary>
/// Builds the fresh default state a provider returns after a missing read or a clear (Orleans uses its activator:
/// <c>new T()</c>). Types without a public parameterless constructor get <c>default</c>.
/// </summary>
/// <typeparam name="T">State type.</typeparam>
internal static class StateFactory<T>
{
    private static readonly bool CanCreate = typeof(T).IsValueType || typeof(T).GetConstructor(Type.EmptyTypes) is not null;

    /// <summary>A new default instance.</summary>
    public static T Create() => CanCreate ? Activator.CreateInstance<T>() : default!;
}

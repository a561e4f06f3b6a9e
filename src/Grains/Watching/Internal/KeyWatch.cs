namespace CacheProvider.Grains.Internal;

/// <summary>
/// Per-key watch state: the registrations, the highest revision known to be reflected locally, operations of the
/// local storage in flight, and events that arrived while one was in flight (decided when it completes: at or
/// below the operation's revision they are ours or already seen, above it they are someone else's).
/// </summary>
internal sealed class KeyWatch
{
    public GrainStateWatchRegistration[] Registrations = [];
    public ulong Known;
    public int InFlight;
    public List<GrainStateChange>? Deferred;
    public bool Removed;
}

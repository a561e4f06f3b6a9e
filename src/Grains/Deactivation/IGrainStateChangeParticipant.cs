namespace CacheProvider.Grains;

/// <summary>
/// Optional, on a grain class: be told, on the activation's own scheduler, before a <see cref="NatsGrainStorage"/>
/// deactivates the activation because a state it read expired, was removed or was written by someone else — for
/// example to unregister a reminder when a cart expired. Grains without it are deactivated just the same.
/// </summary>
/// <example>
/// <code>
/// public async Task&lt;bool&gt; OnStateChangedAsync(string stateName, GrainStateChange change)
/// {
///     if (change.Kind is GrainStateChangeKind.Expired or GrainStateChangeKind.Removed
///         &amp;&amp; await this.GetReminder("nudge") is { } reminder)
///     {
///         await this.UnregisterReminder(reminder);
///     }
///
///     return true; // deactivate now
/// }
/// </code>
/// </example>
public interface IGrainStateChangeParticipant
{
    /// <summary>
    /// Called once per change while the activation is registered. The deactivation reason the storage then uses says
    /// the same (state name, what happened, revision).
    /// </summary>
    /// <param name="stateName">The state's name (<c>[PersistentState]</c> name, or <c>"state"</c> for <c>Grain&lt;T&gt;</c>).</param>
    /// <param name="change">What happened, with the revision that did it.</param>
    /// <returns>
    /// true to be deactivated now (what happens without this interface); false to keep the activation, which then
    /// deactivates itself when it is ready (<c>DeactivateOnIdle</c>), for instance once work it has started is done.
    /// An exception counts as true (it is logged).
    /// </returns>
    Task<bool> OnStateChangedAsync(string stateName, GrainStateChange change);
}

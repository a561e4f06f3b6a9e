namespace CacheProvider.Samples.Expiry;

/// <summary>The demo saw something the walkthrough says cannot happen; the message says what, for a person.</summary>
internal sealed class DemoFailedException(string message) : Exception(message);

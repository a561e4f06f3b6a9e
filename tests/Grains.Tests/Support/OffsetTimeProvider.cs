namespace CacheProvider.Grains.Tests.Support;

/// <summary>A clock that runs with real time plus an adjustable offset.</summary>
internal sealed class OffsetTimeProvider : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}

namespace CacheProvider.Operations;

/// <summary>One hygiene problem of a KV bucket (or of the server), with the exact fix.</summary>
/// <param name="Code">Stable identifier, e.g. <c>mirror-without-ttl</c> (see <see cref="KvFindingCodes"/>).</param>
/// <param name="Severity">How bad it is.</param>
/// <param name="Bucket">The bucket, or <see langword="null"/> for server-wide findings.</param>
/// <param name="Message">What is wrong, with the numbers that show it.</param>
/// <param name="Fix">The exact remedy (a <c>kv-doctor</c> command or a manual step).</param>
public sealed record KvFinding(string Code, KvFindingSeverity Severity, string? Bucket, string Message, string Fix)
{
    /// <inheritdoc />
    public override string ToString() => $"[{Severity}] {Bucket ?? "server"}: {Code}: {Message} Fix: {Fix}";
}

namespace CacheProvider.Samples.Patterns;

/// <summary>Bucket names: the defaults on our own server, unique ones on a shared server (removed at the end).</summary>
internal sealed record DemoNames(string Leases, string Presence, string Tokens, bool Shared)
{
    public static DemoNames Create(bool shared)
    {
        if (!shared)
        {
            return new DemoNames("leases", "presence", "tokens", false);
        }

        var suffix = $"_demo{Environment.ProcessId}";
        return new DemoNames("leases" + suffix, "presence" + suffix, "tokens" + suffix, true);
    }
}

namespace CacheProvider.Samples.Cluster;

/// <summary>
/// An Orleans cluster on NATS alone: membership, gateways, grain directory, grain storage with per-state TTL and
/// reminders all in NATS JetStream KV. <c>silo …</c> runs one silo; without it, the front end starts a nats-server,
/// three silos and a client, and shows a silo being killed and its grains moving (<c>--smoke</c>: once, exit 0/1).
/// </summary>
internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        if (args is ["silo", .. var rest])
        {
            if (rest is ["--help" or "-h"])
            {
                Console.WriteLine(SiloSettings.Usage);
                return Task.FromResult(0);
            }

            return SiloMode.RunAsync(rest);
        }

        return DemoMode.RunAsync(args);
    }
}

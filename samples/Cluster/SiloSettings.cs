using System.Globalization;

namespace CacheProvider.Samples.Cluster;

/// <summary>
/// What one silo process runs with: <c>silo --nats URL --silo-port N --gateway-port N --name NAME
/// [--clustering nats|redis] [--redis HOST:PORT] [--probe default|fast] [--cluster-id ID] [--exit-with-stdin]</c>.
/// Each has an environment fallback (<c>NATS_URL</c>, <c>SILO_PORT</c>, <c>GATEWAY_PORT</c>, <c>SILO_NAME</c>,
/// <c>CLUSTERING</c>, <c>REDIS</c>, <c>PROBE</c>, <c>CLUSTER_ID</c>), so a container or a script can set them either way.
/// </summary>
internal sealed record SiloSettings(
    string NatsUrl,
    int SiloPort,
    int GatewayPort,
    string Name,
    ClusteringProvider Clustering,
    string? Redis,
    string Probe,
    string ClusterId,
    bool ExitWithStdin)
{
    public const string Usage =
        "usage: CacheProvider.Samples.Cluster silo --nats URL --silo-port N --gateway-port N --name NAME [--clustering nats|redis] [--redis HOST:PORT] [--probe default|fast] [--cluster-id ID] [--reconnect-wait-ms N] [--exit-with-stdin]";

    /// <summary>
    /// The NATS.Net reconnect wait (<c>--reconnect-wait-ms</c>, <c>RECONNECT_WAIT_MS</c>): when set, the silo registers
    /// its own connection with this constant wait between reconnect attempts instead of NATS.Net's default (2 s,
    /// doubling to 5 s), which decides how soon a silo is back after a nats-server restart.
    /// </summary>
    public TimeSpan? ReconnectWait { get; init; }

    /// <summary>The command-line arguments of a silo with these settings (what the front end passes to a child).</summary>
    public IReadOnlyList<string> ToArguments()
    {
        var args = new List<string>
        {
            "silo", "--nats", NatsUrl,
            "--silo-port", SiloPort.ToString(CultureInfo.InvariantCulture),
            "--gateway-port", GatewayPort.ToString(CultureInfo.InvariantCulture),
            "--name", Name,
            "--clustering", Clustering == ClusteringProvider.Redis ? "redis" : "nats",
            "--probe", Probe,
            "--cluster-id", ClusterId,
        };
        if (Redis is not null)
        {
            args.AddRange(["--redis", Redis]);
        }

        if (ReconnectWait is { } wait)
        {
            args.AddRange(["--reconnect-wait-ms", ((int)wait.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)]);
        }

        if (ExitWithStdin)
        {
            args.Add("--exit-with-stdin");
        }

        return args;
    }

    /// <summary>Parses <paramref name="args"/> (after <c>silo</c>); null and a message when they make no silo.</summary>
    public static SiloSettings? Parse(IReadOnlyList<string> args, out string? error)
    {
        string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        var nats = Env("NATS_URL");
        var siloPort = Env("SILO_PORT");
        var gatewayPort = Env("GATEWAY_PORT");
        var name = Env("SILO_NAME");
        var clustering = Env("CLUSTERING") ?? "nats";
        var redis = Env("REDIS");
        var probe = Env("PROBE") ?? MembershipProfile.Default;
        var clusterId = Env("CLUSTER_ID") ?? SampleNames.DefaultClusterId;
        var reconnect = Env("RECONNECT_WAIT_MS");
        var exitWithStdin = false;
        for (var i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : string.Empty;
            switch (args[i])
            {
                case "--nats": nats = Next(); break;
                case "--silo-port": siloPort = Next(); break;
                case "--gateway-port": gatewayPort = Next(); break;
                case "--name": name = Next(); break;
                case "--clustering": clustering = Next(); break;
                case "--redis": redis = Next(); break;
                case "--probe": probe = Next(); break;
                case "--cluster-id": clusterId = Next(); break;
                case "--reconnect-wait-ms": reconnect = Next(); break;
                case "--exit-with-stdin": exitWithStdin = true; break;
                default:
                    error = $"unknown argument '{args[i]}'";
                    return null;
            }
        }

        error = (nats, siloPort, gatewayPort, name) switch
        {
            (null or "", _, _, _) => "a NATS url is required (--nats or NATS_URL)",
            (_, _, _, null or "") => "a silo name is required (--name or SILO_NAME)",
            _ when !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') => $"--name takes letters, digits, '-' and '_' only, not '{name}'",
            _ when !TryPort(siloPort, out _) => $"--silo-port must be a port number, not '{siloPort}'",
            _ when !TryPort(gatewayPort, out _) => $"--gateway-port must be a port number, not '{gatewayPort}'",
            _ when clustering is not ("nats" or "redis") => $"--clustering must be nats or redis, not '{clustering}'",
            _ when clustering == "redis" && string.IsNullOrEmpty(redis) => "--clustering redis needs --redis HOST:PORT",
            _ when reconnect is not null && !(int.TryParse(reconnect, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms is > 0 and <= 60_000) => $"--reconnect-wait-ms must be 1..60000, not '{reconnect}'",
            _ when !MembershipProfile.IsKnown(probe) => $"--probe must be {MembershipProfile.Default} or {MembershipProfile.Fast}, not '{probe}'",
            _ => null,
        };
        if (error is not null)
        {
            return null;
        }

        TryPort(siloPort, out var silo);
        TryPort(gatewayPort, out var gateway);
        return new SiloSettings(nats!, silo, gateway, name!, clustering == "redis" ? ClusteringProvider.Redis : ClusteringProvider.Nats, redis, probe, clusterId, exitWithStdin)
        {
            ReconnectWait = reconnect is null ? null : TimeSpan.FromMilliseconds(int.Parse(reconnect, CultureInfo.InvariantCulture)),
        };
    }

    private static bool TryPort(string? text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and < 65536;
}

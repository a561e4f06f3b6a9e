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
        "usage: CacheProvider.Samples.Cluster silo --nats URL --silo-port N --gateway-port N --name NAME [--clustering nats|redis] [--redis HOST:PORT] [--probe default|fast] [--cluster-id ID] [--exit-with-stdin]";

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
            _ when !MembershipProfile.IsKnown(probe) => $"--probe must be {MembershipProfile.Default} or {MembershipProfile.Fast}, not '{probe}'",
            _ => null,
        };
        if (error is not null)
        {
            return null;
        }

        TryPort(siloPort, out var silo);
        TryPort(gatewayPort, out var gateway);
        return new SiloSettings(nats!, silo, gateway, name!, clustering == "redis" ? ClusteringProvider.Redis : ClusteringProvider.Nats, redis, probe, clusterId, exitWithStdin);
    }

    private static bool TryPort(string? text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and < 65536;
}

using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace CacheProvider.Testing;

/// <summary>
/// A JetStream cluster of nats-server processes on 127.0.0.1 (three by default): each node has its own client port,
/// route port and store directory, and every node lists every route. Started together; ready once JetStream has a
/// meta leader. Nodes can be stopped, killed and started again on the same ports and stores; the leader of a
/// stream is found from the nodes' monitoring endpoint (<c>/jsz</c>: the node that reports itself as the stream's
/// <c>cluster.leader</c>), so this fixture needs no NATS client.
/// </summary>
public sealed class NatsCluster : IAsyncDisposable
{
    private readonly List<NatsServer> _nodes;
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly List<string> _stores;
    private readonly int[] _httpPorts;

    private NatsCluster(List<NatsServer> nodes, List<string> stores, IReadOnlyList<string> names, int[] httpPorts)
    {
        _nodes = nodes;
        _stores = stores;
        Names = names;
        _httpPorts = httpPorts;
    }

    /// <summary>The nodes, in start order.</summary>
    public IReadOnlyList<NatsServer> Nodes => _nodes;

    /// <summary><c>server_name</c> of each node (same order as <see cref="Nodes"/>).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Every node's client URL, comma-separated (a seed list for <see cref="NatsOptions.Url"/>).</summary>
    public string Urls => string.Join(",", _nodes.Select(n => n.Url));

    /// <summary>Starts <paramref name="size"/> routed nodes and waits until JetStream has a meta leader.</summary>
    /// <remarks>Ports are picked free but may be taken by someone else before the servers bind them: then the whole start is retried.</remarks>
    public static async Task<NatsCluster> StartAsync(ITestOutputHelper? output = null, int size = 3, string clusterName = "c1")
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryStartAsync(output, size, clusterName).ConfigureAwait(false);
            }
            catch (InvalidOperationException ex) when (attempt < 4 && ex.Message.Contains("address already in use", StringComparison.Ordinal))
            {
            }
        }
    }

    private static async Task<NatsCluster> TryStartAsync(ITestOutputHelper? output, int size, string clusterName)
    {
        var ports = DistinctFreePorts(3 * size);
        var clientPorts = ports[..size];
        var routePorts = ports[size..(2 * size)];
        var httpPorts = ports[(2 * size)..];
        var stores = Enumerable.Range(0, size).Select(_ => Directory.CreateTempSubdirectory("nats-cluster-").FullName).ToList();
        var names = Enumerable.Range(0, size).Select(i => $"n{i + 1}-{clientPorts[i]}").ToArray();
        var routes = string.Join(", ", routePorts.Select(p => $"nats-route://127.0.0.1:{p}"));
        var starts = Enumerable.Range(0, size).Select(i =>
        {
            var config = string.Create(CultureInfo.InvariantCulture, $$"""
                server_name: {{names[i]}}
                http: 127.0.0.1:{{httpPorts[i]}}
                jetstream {
                  store_dir: "{{stores[i]}}"
                }
                cluster {
                  name: {{clusterName}}
                  listen: 127.0.0.1:{{routePorts[i]}}
                  routes: [{{routes}}]
                }
                """);
            return NatsServer.StartAsync(output, config, storeDir: stores[i], port: clientPorts[i], configNamesServer: true);
        }).ToList();

        try
        {
            await Task.WhenAll(starts).ConfigureAwait(false);
        }
        catch
        {
            foreach (var t in starts.Where(t => t.IsCompletedSuccessfully))
            {
                await t.Result.DisposeAsync().ConfigureAwait(false);
            }

            DeleteStores(stores);
            throw;
        }

        var cluster = new NatsCluster(starts.Select(t => t.Result).ToList(), stores, names, httpPorts);
        await cluster.WaitForMetaLeaderAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return cluster;
    }

    /// <summary>Index of the node named <paramref name="serverName"/>, or -1.</summary>
    public int IndexOf(string? serverName) => serverName is null ? -1 : Names.ToList().IndexOf(serverName);

    /// <summary>
    /// Polls the running nodes' <c>/jsz</c> until every one of them knows the JetStream meta leader and the leader
    /// sees every other running node as a current peer.
    /// </summary>
    public async Task WaitForMetaLeaderAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var all = true;
            var leaderChecked = false;
            for (var i = 0; i < _nodes.Count && all; i++)
            {
                if (_nodes[i].Pid is null)
                {
                    continue;
                }

                using var doc = await JszAsync(i, "").ConfigureAwait(false);
                var meta = default(JsonElement);
                var leaderName = doc is not null && doc.RootElement.TryGetProperty("meta_cluster", out meta)
                    && meta.TryGetProperty("leader", out var leader) ? leader.GetString() : null;
                all = !string.IsNullOrEmpty(leaderName);
                if (all && leaderName == Names[i])
                {
                    // The leader's view: every other running node is a current, online peer (else R3 placement fails).
                    var running = _nodes.Count(n => n.Pid is not null);
                    all = meta.TryGetProperty("replicas", out var peers) && peers.ValueKind == JsonValueKind.Array
                        && peers.EnumerateArray().Count(p => p.TryGetProperty("current", out var c) && c.GetBoolean()
                            && !(p.TryGetProperty("offline", out var o) && o.GetBoolean())) >= running - 1;
                    leaderChecked = true;
                }
            }

            if (all && leaderChecked)
            {
                return;
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        throw new TimeoutException($"JetStream had no meta leader within {timeout}");
    }

    /// <summary>
    /// The running node that leads <paramref name="stream"/> (e.g. <c>KV_bucket</c>) by its own account, polling
    /// until there is one (elections take a few seconds after a leader dies).
    /// </summary>
    public async Task<int> GetStreamLeaderAsync(string stream, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            for (var i = 0; i < _nodes.Count; i++)
            {
                if (_nodes[i].Pid is not null && await StreamLeaderSeenByAsync(i, stream).ConfigureAwait(false) == Names[i])
                {
                    return i;
                }
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        throw new TimeoutException($"Stream {stream} had no leader within the timeout");
    }

    /// <summary><c>cluster.leader</c> of <paramref name="stream"/> as node <paramref name="index"/> sees it; null when unknown.</summary>
    public async Task<string?> StreamLeaderSeenByAsync(int index, string stream)
    {
        using var doc = await JszAsync(index, "?accounts=true&streams=true").ConfigureAwait(false);
        if (doc is null || !doc.RootElement.TryGetProperty("account_details", out var accounts) || accounts.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var account in accounts.EnumerateArray())
        {
            if (!account.TryGetProperty("stream_detail", out var streams) || streams.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var s in streams.EnumerateArray())
            {
                if (s.TryGetProperty("name", out var name) && name.GetString() == stream
                    && s.TryGetProperty("cluster", out var cluster) && cluster.TryGetProperty("leader", out var leader))
                {
                    return leader.GetString();
                }
            }
        }

        return null;
    }

    /// <summary>SIGKILLs node <paramref name="index"/>.</summary>
    public Task KillAsync(int index) => _nodes[index].KillAsync();

    /// <summary>Stops node <paramref name="index"/> gracefully (SIGTERM).</summary>
    public Task StopAsync(int index) => _nodes[index].StopAsync();

    /// <summary>Starts node <paramref name="index"/> again on its ports and store.</summary>
    public Task StartAgainAsync(int index) => _nodes[index].StartAgainAsync();

    /// <summary>Client URLs of the running nodes.</summary>
    public string RunningUrls() => string.Join(",", _nodes.Where(n => n.Pid is not null).Select(n => n.Url));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var n in _nodes)
        {
            await n.DisposeAsync().ConfigureAwait(false);
        }

        DeleteStores(_stores);
    }

    private async Task<JsonDocument?> JszAsync(int index, string query)
    {
        try
        {
            var json = await Http.GetStringAsync(new Uri($"http://127.0.0.1:{_httpPorts[index]}/jsz{query}")).ConfigureAwait(false);
            return JsonDocument.Parse(json);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Free ports, all different: each listener stays open until all are picked.</summary>
    private static int[] DistinctFreePorts(int count)
    {
        var listeners = new List<System.Net.Sockets.TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
                l.Start();
                listeners.Add(l);
            }

            return listeners.Select(l => ((System.Net.IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var l in listeners)
            {
                l.Stop();
                l.Dispose();
            }
        }
    }

    private static void DeleteStores(IEnumerable<string> stores)
    {
        foreach (var s in stores)
        {
            try
            {
                Directory.Delete(s, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

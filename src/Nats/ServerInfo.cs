using System.Text.Json.Serialization;

namespace CacheProvider.Nats;

/// <summary>What the server announced in its <c>INFO</c>.</summary>
public sealed record ServerInfo
{
    /// <summary>Server id.</summary>
    [JsonPropertyName("server_id")] public string ServerId { get; init; } = string.Empty;

    /// <summary>Server name.</summary>
    [JsonPropertyName("server_name")] public string ServerName { get; init; } = string.Empty;

    /// <summary>Server version, e.g. <c>2.15.1</c>.</summary>
    [JsonPropertyName("version")] public string Version { get; init; } = string.Empty;

    /// <summary>Protocol version.</summary>
    [JsonPropertyName("proto")] public int Protocol { get; init; }

    /// <summary>Host the server listens on.</summary>
    [JsonPropertyName("host")] public string Host { get; init; } = string.Empty;

    /// <summary>Client port.</summary>
    [JsonPropertyName("port")] public int Port { get; init; }

    /// <summary>Whether the server supports headers.</summary>
    [JsonPropertyName("headers")] public bool Headers { get; init; }

    /// <summary>Largest message (headers and payload) the server accepts.</summary>
    [JsonPropertyName("max_payload")] public long MaxPayload { get; init; } = 1024 * 1024;

    /// <summary>Whether the server requires authentication.</summary>
    [JsonPropertyName("auth_required")] public bool AuthRequired { get; init; }

    /// <summary>Whether the server requires TLS.</summary>
    [JsonPropertyName("tls_required")] public bool TlsRequired { get; init; }

    /// <summary>Whether the server verifies client certificates.</summary>
    [JsonPropertyName("tls_verify")] public bool TlsVerify { get; init; }

    /// <summary>Whether JetStream is enabled.</summary>
    [JsonPropertyName("jetstream")] public bool JetStream { get; init; }

    /// <summary>Other servers of the cluster clients may connect to.</summary>
    [JsonPropertyName("connect_urls")] public string[]? ConnectUrls { get; init; }

    /// <summary>Set when the server is in lame duck mode: it will shut down soon.</summary>
    [JsonPropertyName("ldm")] public bool LameDuckMode { get; init; }

    /// <summary>The client id the server assigned to this connection.</summary>
    [JsonPropertyName("client_id")] public ulong ClientId { get; init; }

    /// <summary>Cluster name, if clustered.</summary>
    [JsonPropertyName("cluster")] public string? Cluster { get; init; }

    /// <summary>The client's IP as the server sees it.</summary>
    [JsonPropertyName("client_ip")] public string? ClientIp { get; init; }

    /// <summary>Parsed <see cref="Version"/>; 0.0.0 when it cannot be parsed.</summary>
    [JsonIgnore]
    public Version ParsedVersion
    {
        get
        {
            var v = Version;
            var dash = v.IndexOf('-', StringComparison.Ordinal);
            if (dash >= 0)
            {
                v = v[..dash];
            }

            return System.Version.TryParse(v, out var parsed) ? parsed : new Version(0, 0, 0);
        }
    }
}

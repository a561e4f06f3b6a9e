using System.Text.Json.Serialization;

namespace CacheProvider.Nats.Internal;

/// <summary>The CONNECT command body.</summary>
internal sealed record ConnectRequest
{
    [JsonPropertyName("verbose")] public bool Verbose { get; init; }
    [JsonPropertyName("pedantic")] public bool Pedantic { get; init; }
    [JsonPropertyName("tls_required")] public bool TlsRequired { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("lang")] public string Lang { get; init; } = ".NET-CacheProvider";
    [JsonPropertyName("version")] public string Version { get; init; } = "1.0.0";
    [JsonPropertyName("protocol")] public int Protocol { get; init; } = 1;
    [JsonPropertyName("headers")] public bool Headers { get; init; } = true;
    [JsonPropertyName("no_responders")] public bool NoResponders { get; init; } = true;
    [JsonPropertyName("echo")] public bool Echo { get; init; } = true;
    [JsonPropertyName("user")] public string? User { get; init; }
    [JsonPropertyName("pass")] public string? Pass { get; init; }
    [JsonPropertyName("auth_token")] public string? AuthToken { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ServerInfo))]
[JsonSerializable(typeof(ConnectRequest))]
internal sealed partial class NatsJsonContext : JsonSerializerContext;

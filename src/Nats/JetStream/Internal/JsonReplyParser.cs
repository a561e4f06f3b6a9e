using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CacheProvider.Nats.Internal;

namespace CacheProvider.Nats.JetStream.Internal;

/// <summary>Deserializes a JetStream API reply straight from the receive buffer.</summary>
internal readonly struct JsonReplyParser<T>(JsonTypeInfo<T> typeInfo) : IReplyParser<T>
    where T : ApiResponse
{
    public T Parse(in RawMessage reply)
    {
        if (reply.Payload.IsEmpty)
        {
            var code = reply.StatusCode();
            throw new JetStreamApiException(code, 0, code == 0 ? "empty API response" : $"status {code}");
        }

        try
        {
            var reader = new Utf8JsonReader(reply.Payload);
            var result = JsonSerializer.Deserialize(ref reader, typeInfo) ?? throw new NatsProtocolException("Empty JetStream API response");
            if (result.Error is { } error)
            {
                throw new JetStreamApiException(error.Code, error.ErrCode, error.Description);
            }

            return result;
        }
        catch (JsonException ex)
        {
            throw new NatsProtocolException($"Malformed JetStream API response: {ex.Message}");
        }
    }
}

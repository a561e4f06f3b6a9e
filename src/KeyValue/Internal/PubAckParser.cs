using System.Buffers;
using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace CacheProvider.KeyValue.Internal;

/// <summary>A publish acknowledgement.</summary>
internal readonly record struct PubAck(ulong Seq, bool Duplicate);

/// <summary>
/// Reads a JetStream publish acknowledgement (<c>{"stream":…,"seq":…,"duplicate":…}</c> or <c>{"error":{…}}</c>) on
/// the read loop; an error becomes <see cref="NatsJSApiException"/>, as NATS.Net reports API errors.
/// </summary>
internal readonly struct PubAckParser : IReplyParser<PubAck>
{
    public PubAck Parse(int status, ReadOnlySpan<byte> headers, in ReadOnlySequence<byte> payload)
    {
        if (status >= 400 && payload.IsEmpty)
        {
            throw new NatsJSApiException(new ApiError { Code = status, Description = "publish failed with status " + status });
        }

        var reader = new Utf8JsonReader(payload);
        ulong seq = 0;
        var duplicate = false;
        ApiError? error = null;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new NatsJSApiException(new ApiError { Code = 500, Description = "publish acknowledgement is not a JSON object" });
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("seq"u8))
            {
                reader.Read();
                seq = reader.GetUInt64();
            }
            else if (reader.ValueTextEquals("duplicate"u8))
            {
                reader.Read();
                duplicate = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                error = ReadError(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (error is not null)
        {
            throw new NatsJSApiException(error);
        }

        return new PubAck(seq, duplicate);
    }

    private static ApiError ReadError(ref Utf8JsonReader reader)
    {
        var error = new ApiError();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return error;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("code"u8))
            {
                reader.Read();
                error.Code = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("err_code"u8))
            {
                reader.Read();
                error.ErrCode = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("description"u8))
            {
                reader.Read();
                error.Description = reader.GetString();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return error;
    }
}

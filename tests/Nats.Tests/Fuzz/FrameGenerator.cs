using System.Text;
using System.Text.Json;

namespace CacheProvider.Nats.Tests.Fuzz;

/// <summary>A valid server frame and the operation the parser must report for it.</summary>
internal sealed record GeneratedFrame(byte[] Bytes, FuzzEvent Expected);

/// <summary>
/// Generates valid server-to-client frames covering the whole grammar the parser accepts: every op, optional
/// reply subjects, status lines, repeated header names, binary payloads that contain CRLF and protocol text,
/// tab/multi-space separators, LF-only control lines and lower/mixed-case op names (the protocol is
/// case-insensitive, so those must round-trip exactly as well).
/// </summary>
internal sealed class FrameGenerator(Random rng)
{
    private static readonly string[] Statuses = ["", " 503", " 404 Message Not Found", " 408 Request Timeout", " 100 Idle Heartbeat", " 409 Consumer Deleted", " 400 Bad Request"];
    private static readonly string[] HeaderNames = ["Nats-TTL", "Nats-Msg-Id", "X-Multi", "Nats-Sequence", "KV-Operation", "Nats-Marker-Reason", "x-lower", "A"];
    private static readonly string[] ErrTexts = ["Unknown Protocol Operation", "Stale Connection", "Maximum Payload Violation", "Slow Consumer", "Invalid Subject", "Maximum Connections Exceeded"];
    private const string SubjectChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-$";
    private const string HeaderValueChars = "abcdefghijklmnopqrstuvwxyz ABC0123456789:;=,./-_\"'!?*>{}[]";

    /// <summary>Sid of generated MSG/HMSG; null = random (the client-level test uses its real subscription).</summary>
    public long? FixedSid { get; init; }

    /// <summary>The client-level test leaves connect_urls out: they would make the client try other addresses.</summary>
    public bool ConnectUrls { get; init; } = true;

    public GeneratedFrame Next()
    {
        var roll = rng.Next(100);
        var frame = roll switch
        {
            < 30 => Msg(headers: false),
            < 60 => Msg(headers: true),
            < 68 => Info(),
            < 76 => Simple("PING", FuzzOp.Ping),
            < 84 => Simple("PONG", FuzzOp.Pong),
            < 92 => Simple("+OK", FuzzOp.Ok),
            _ => Err(),
        };
        return rng.Next(20) == 0 ? frame with { Bytes = ChangeOpCase(frame.Bytes) } : frame;
    }

    private GeneratedFrame Simple(string op, FuzzOp kind) => new(Encoding.ASCII.GetBytes(op + Eol()), new FuzzEvent(kind));

    private GeneratedFrame Err()
    {
        var text = rng.Next(3) == 0 ? RandomText(1 + rng.Next(40), "abcdefghij XYZ0123456789:.,\"") .Trim(' ', '\'') : ErrTexts[rng.Next(ErrTexts.Length)];
        if (text.Length == 0)
        {
            text = "x";
        }

        var bytes = Encoding.ASCII.GetBytes($"-ERR '{text}'{Eol()}");
        return new GeneratedFrame(bytes, new FuzzEvent(FuzzOp.Err) { Text = Encoding.ASCII.GetBytes(text) });
    }

    private GeneratedFrame Info()
    {
        var urls = new List<string>();
        if (ConnectUrls)
        {
            for (var i = rng.Next(4); i > 0; i--)
            {
                urls.Add(rng.Next(3) == 0 ? $"[fd00::{rng.Next(1, 999)}]:{rng.Next(1, 65535)}" : $"10.{rng.Next(256)}.{rng.Next(256)}.{rng.Next(1, 255)}:{rng.Next(1, 65535)}");
            }
        }

        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("server_id", RandomText(8 + rng.Next(20), SubjectChars));
            w.WriteString("server_name", RandomText(rng.Next(12), "abc é✓\"\\\t"));
            w.WriteString("version", "2.12.1");
            w.WriteNumber("proto", 1);
            w.WriteString("host", "0.0.0.0");
            w.WriteNumber("port", 4222);
            w.WriteBoolean("headers", true);
            w.WriteNumber("max_payload", 1048576);
            w.WriteBoolean("jetstream", rng.Next(2) == 0);
            w.WriteNumber("client_id", (ulong)rng.NextInt64(0, long.MaxValue));
            if (urls.Count > 0 || (ConnectUrls && rng.Next(2) == 0))
            {
                w.WriteStartArray("connect_urls");
                foreach (var u in urls)
                {
                    w.WriteStringValue(u);
                }

                w.WriteEndArray();
            }

            if (rng.Next(10) == 0)
            {
                w.WriteString("unknown_field", "ignored");
            }

            w.WriteEndObject();
        }

        var json = ms.ToArray();
        var bytes = Concat(Encoding.ASCII.GetBytes("INFO" + Sep()), json, Encoding.ASCII.GetBytes(Eol()));
        return new GeneratedFrame(bytes, new FuzzEvent(FuzzOp.Info) { Text = json, ConnectUrls = urls });
    }

    private GeneratedFrame Msg(bool headers)
    {
        var subject = Encoding.UTF8.GetBytes(Subject());
        var sid = FixedSid ?? (rng.Next(4) == 0 ? rng.NextInt64(1, 999_999_999_999_999_999) : rng.Next(1, 1000));
        var reply = rng.Next(2) == 0 ? Encoding.ASCII.GetBytes("_INBOX." + RandomText(22, SubjectChars) + (rng.Next(2) == 0 ? "." + rng.Next(1000) : "")) : [];
        var payload = Payload();
        byte[] block = [];
        HeaderSpec? spec = null;
        if (headers)
        {
            (block, spec) = HeaderBlock();
        }

        var line = new StringBuilder(headers ? "HMSG" : "MSG").Append(Sep()).Append(Encoding.UTF8.GetString(subject)).Append(Sep()).Append(sid);
        if (reply.Length > 0)
        {
            line.Append(Sep()).Append(Encoding.ASCII.GetString(reply));
        }

        if (headers)
        {
            line.Append(Sep()).Append(block.Length);
        }

        line.Append(Sep()).Append(block.Length + payload.Length).Append(Eol());
        var bytes = Concat(Encoding.UTF8.GetBytes(line.ToString()), block, payload, "\r\n"u8.ToArray());
        return new GeneratedFrame(bytes, new FuzzEvent(FuzzOp.Msg) { Subject = subject, Sid = sid, Reply = reply, Headers = block, Payload = payload, HeaderSpec = spec });
    }

    public (byte[] Block, HeaderSpec Spec) HeaderBlock()
    {
        var status = Statuses[rng.Next(Statuses.Length)];
        var sb = new StringBuilder("NATS/1.0").Append(status).Append("\r\n");
        var items = new List<KeyValuePair<string, string>>();
        for (var i = rng.Next(status.Length == 0 ? 1 : 0, 6); i > 0; i--)
        {
            var name = HeaderNames[rng.Next(HeaderNames.Length)];
            var value = rng.Next(6) == 0 ? "héllo ✓ wörld" : RandomText(rng.Next(30), HeaderValueChars).Trim(' ');
            items.Add(new KeyValuePair<string, string>(name, value));
            sb.Append(name).Append(rng.Next(4) == 0 ? ":" : ": ").Append(value).Append("\r\n");
            if (rng.Next(4) == 0)
            {
                // Multi-valued: the same name again, order must be kept.
                items.Add(new KeyValuePair<string, string>(name, "again-" + i));
                sb.Append(name).Append(": again-").Append(i).Append("\r\n");
            }
        }

        sb.Append("\r\n");
        var code = 0;
        string? description = null;
        if (status.Length > 0)
        {
            var parts = status.Trim().Split(' ', 2);
            code = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            description = parts.Length > 1 ? parts[1] : null;
        }

        return (Encoding.UTF8.GetBytes(sb.ToString()), new HeaderSpec(code, description, items));
    }

    private string Subject()
    {
        var tokens = 1 + rng.Next(5);
        var sb = new StringBuilder();
        for (var i = 0; i < tokens; i++)
        {
            if (i > 0)
            {
                sb.Append('.');
            }

            sb.Append(rng.Next(30) == 0 ? "ünï" : RandomText(1 + rng.Next(12), SubjectChars));
        }

        return sb.ToString();
    }

    private byte[] Payload()
    {
        var length = rng.Next(100) switch
        {
            < 10 => 0,
            < 50 => rng.Next(1, 17),
            < 85 => rng.Next(1, 257),
            < 99 => rng.Next(1, 4097),
            _ => rng.Next(1, 70_000),
        };
        var payload = new byte[length];
        rng.NextBytes(payload);
        // Protocol-looking text inside payloads must not be taken for operations.
        ReadOnlySpan<byte> traps = "\r\nMSG a 1 5\r\nPING\r\n-ERR 'x'\r\n\n\r"u8;
        for (var i = rng.Next(4); i > 0 && length > 0; i--)
        {
            var at = rng.Next(length);
            var take = Math.Min(rng.Next(1, traps.Length + 1), length - at);
            var from = rng.Next(traps.Length - take + 1);
            traps.Slice(from, take).CopyTo(payload.AsSpan(at));
        }

        return payload;
    }

    /// <summary>Mostly one space, as servers send; tabs and runs of blanks are accepted too.</summary>
    private string Sep() => rng.Next(25) switch
    {
        0 => "\t",
        1 => "  ",
        2 => " \t ",
        _ => " ",
    };

    private string Eol() => rng.Next(30) == 0 ? "\n" : "\r\n";

    private byte[] ChangeOpCase(byte[] frame)
    {
        var copy = (byte[])frame.Clone();
        var allLower = rng.Next(2) == 0;
        for (var i = 0; i < copy.Length && copy[i] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'); i++)
        {
            if (copy[i] is >= (byte)'A' and <= (byte)'Z' && (allLower || rng.Next(2) == 0))
            {
                copy[i] += 32;
            }
        }

        return copy;
    }

    public string RandomText(int length, string alphabet)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = alphabet[rng.Next(alphabet.Length)];
        }

        return new string(chars);
    }

    public static byte[] Concat(params byte[][] parts)
    {
        var result = new byte[parts.Sum(p => p.Length)];
        var at = 0;
        foreach (var p in parts)
        {
            p.CopyTo(result, at);
            at += p.Length;
        }

        return result;
    }
}

using System.Text;

namespace CacheProvider.Nats.Tests.Fuzz;

/// <summary>A byte stream for the parser and how much of it must still parse exactly.</summary>
/// <param name="Bytes">What the "server" sends.</param>
/// <param name="Expected">The generated operations, in order.</param>
/// <param name="IntactEvents">How many leading operations lie wholly before the first mutated byte and so must round-trip.</param>
/// <param name="Mutations">What was done, for the failure message.</param>
internal sealed record FuzzStream(byte[] Bytes, IReadOnlyList<FuzzEvent> Expected, int IntactEvents, string Mutations)
{
    public bool Mutated => IntactEvents < Expected.Count || Mutations.Length > 0;
}

/// <summary>
/// Corrupts valid frames the ways a broken or hostile server (or a broken network path) could: frame-level
/// corruptions that keep the line readable but make its numbers or structure wrong, then byte-level damage.
/// Every mutation touches only bytes at or after some offset, so the frames before the smallest such offset
/// must still parse exactly; that turns each mutated stream into a differential check of its prefix too.
/// </summary>
internal sealed class FrameMutator(Random rng, FrameGenerator generator)
{
    private static readonly string[] HugeNumbers =
        ["67108865", "67108864", "99999999999", "999999999999999999", "9999999999999999999", "18446744073709551616", "9223372036854775807", "2147483648", "4294967296"];

    private static readonly string[] BadNumbers = ["-1", "-0", "+5", "1a", "0x10", "", "1.5", "1e3", "١٢", "--1", " ", "00000000000000000000001"];

    private static readonly string[] BadLines =
    [
        "FOO bar", "MSGX a 1 0", "PINGX", "PIN", "", "INFO", "INFO{}", "MSG", "MSG ", "HMSG a 1 2", "MSG a", "MSG a 1",
        "MSG a 1 b c d 5", "HMSG a 1 b c 2 5 6", "+OKAY", "+O", "-E", "\0\0\0", "PING PONG", "msg\ta\t1\t0", "INFO null", "INFO []",
        "INFO {\"connect_urls\": [1, 2]}", "INFO {\"port\": \"x\"}", "INFO {\"port\": 1e999}", "INFO {\"client_id\": -1}", "INFO {",
        "INFO {\"max_payload\": 99999999999999999999999}", "INFO \"just a string\"", "INFO {\"headers\": \"yes\"}",
    ];

    private static readonly string[] BadHeaderBlocks =
    [
        "HTTP/1.0\r\n\r\n", "NATS/1.0\r\nNoColon\r\n\r\n", "NATS/1.0 abc\r\n\r\n", "NATS/1.0 99999999999\r\n\r\n", "NATS/1.0\r\n: value\r\n\r\n",
        "NATS/1.0", "NATS/", "\r\n\r\n", "NATS/1.0 -5 Negative\r\n\r\n", "NATS/1.0 404\r\nX:\r\n:\r\n\r\n", "NATS/1.0  \r\n\r\n",
        "NATS/1.0 2147483648 Big\r\n\r\n", "NATS/1.0 12a Code\r\nA: b\r\n\r\n", "nats/1.0\r\n\r\n", "NATS/1.0\nA: b\n\n", "NATS/1.0\rA: b\r\r",
    ];

    private static readonly byte[] Interesting = [.. " \t\r\n0123456789-+:'\"{}"u8, 0x00, 0x7f, 0x80, 0xff];

    public FuzzStream Build(IReadOnlyList<GeneratedFrame> frames, bool mutate)
    {
        var parts = frames.Select(f => f.Bytes).ToList();
        var expected = frames.Select(f => f.Expected).ToList();
        if (!mutate)
        {
            return new FuzzStream(FrameGenerator.Concat([.. parts]), expected, expected.Count, string.Empty);
        }

        var log = new StringBuilder();
        var firstTouched = int.MaxValue;
        if (rng.Next(2) == 0)
        {
            // Frame-level: replace one frame; everything from its start on is suspect.
            var index = rng.Next(parts.Count);
            parts[index] = CorruptFrame(frames[index], log);
            firstTouched = parts.Take(index).Sum(p => p.Length);
        }

        var bytes = FrameGenerator.Concat([.. parts]);
        var byteMutations = firstTouched == int.MaxValue ? 1 + rng.Next(3) : rng.Next(3);
        for (var i = 0; i < byteMutations; i++)
        {
            bytes = MutateBytes(bytes, log, ref firstTouched);
        }

        var intact = 0;
        var end = 0;
        foreach (var f in frames)
        {
            end += f.Bytes.Length;
            if (end > firstTouched)
            {
                break;
            }

            intact++;
        }

        if (log.Length == 0)
        {
            log.Append("none");
        }

        return new FuzzStream(bytes, expected, intact, log.ToString());
    }

    private byte[] CorruptFrame(GeneratedFrame frame, StringBuilder log)
    {
        var e = frame.Expected;
        var isMsg = e.Op == FuzzOp.Msg;
        var withHeaders = isMsg && e.Headers.Length > 0;
        var choice = rng.Next(isMsg ? 8 : 3);
        switch (choice)
        {
            case 0:
                {
                    var line = BadLines[rng.Next(BadLines.Length)];
                    log.Append($"bad line '{line}'; ");
                    return Encoding.UTF8.GetBytes(line + "\r\n");
                }

            case 1:
                {
                    var n = rng.Next(1, 200);
                    log.Append($"garbage frame of {n}; ");
                    var garbage = new byte[n];
                    rng.NextBytes(garbage);
                    return garbage;
                }

            case 2 when rng.Next(400) == 0:
                {
                    // Longer than MaxControlLine, with or without the LF: must be refused, not buffered forever.
                    var big = new byte[Internal.ProtocolParser.MaxControlLine + rng.Next(1, 5000)];
                    big.AsSpan().Fill((byte)'A');
                    "MSG "u8.CopyTo(big);
                    if (rng.Next(2) == 0)
                    {
                        big[^1] = (byte)'\n';
                    }

                    log.Append("control line over the limit; ");
                    return big;
                }

            case 2:
                {
                    // A frame cut short and followed by the next one.
                    var cut = rng.Next(frame.Bytes.Length);
                    log.Append($"frame cut at {cut}; ");
                    return frame.Bytes[..cut];
                }

            case 3:
                {
                    var delta = rng.Next(1, 4) * (rng.Next(2) == 0 ? -1 : 1);
                    var total = e.Headers.Length + e.Payload.Length + delta;
                    log.Append($"total size off by {delta}; ");
                    return MsgFrame(e, withHeaders ? e.Headers.Length.ToString() : null, total.ToString(), e.Sid.ToString());
                }

            case 4:
                {
                    var huge = HugeNumbers[rng.Next(HugeNumbers.Length)];
                    log.Append($"huge size {huge}; ");
                    return rng.Next(3) == 0 && withHeaders
                        ? MsgFrame(e, huge, huge, e.Sid.ToString())
                        : MsgFrame(e, withHeaders ? e.Headers.Length.ToString() : null, huge, e.Sid.ToString());
                }

            case 5:
                {
                    var bad = BadNumbers[rng.Next(BadNumbers.Length)];
                    var total = (e.Headers.Length + e.Payload.Length).ToString();
                    var hdr = withHeaders ? e.Headers.Length.ToString() : null;
                    var field = rng.Next(3);
                    log.Append($"bad number '{bad}' in field {field}; ");
                    return field switch
                    {
                        0 => MsgFrame(e, hdr, total, bad),
                        1 => MsgFrame(e, hdr, bad, e.Sid.ToString()),
                        _ => MsgFrame(e, withHeaders ? bad : "0", total, e.Sid.ToString()),
                    };
                }

            case 6 when withHeaders:
                {
                    var hdr = rng.Next(3) switch
                    {
                        0 => e.Headers.Length + e.Payload.Length + 1,
                        1 => 0,
                        _ => Math.Max(0, e.Headers.Length + rng.Next(-3, 4)),
                    };
                    log.Append($"header size {hdr} instead of {e.Headers.Length}; ");
                    return MsgFrame(e, hdr.ToString(), (e.Headers.Length + e.Payload.Length).ToString(), e.Sid.ToString());
                }

            case 6:
            case 7:
                {
                    // Well-framed HMSG whose header block is broken: the parser passes it on, HeaderCodec must refuse it cleanly.
                    var block = Encoding.UTF8.GetBytes(BadHeaderBlocks[rng.Next(BadHeaderBlocks.Length)]);
                    log.Append($"bad header block '{Encoding.UTF8.GetString(block).ReplaceLineEndings("|")}'; ");
                    return MsgFrame(e with { Headers = block }, block.Length.ToString(), (block.Length + e.Payload.Length).ToString(), e.Sid.ToString());
                }

            default:
                throw new InvalidOperationException("unreachable");
        }
    }

    /// <summary>Rebuilds a MSG/HMSG with the given (possibly wrong) numbers around the original body.</summary>
    private static byte[] MsgFrame(FuzzEvent e, string? headerSize, string totalSize, string sid)
    {
        var line = new StringBuilder(headerSize is null ? "MSG " : "HMSG ").Append(Encoding.UTF8.GetString(e.Subject)).Append(' ').Append(sid);
        if (e.Reply.Length > 0)
        {
            line.Append(' ').Append(Encoding.UTF8.GetString(e.Reply));
        }

        if (headerSize is not null)
        {
            line.Append(' ').Append(headerSize);
        }

        line.Append(' ').Append(totalSize).Append("\r\n");
        return FrameGenerator.Concat(Encoding.UTF8.GetBytes(line.ToString()), e.Headers, e.Payload, "\r\n"u8.ToArray());
    }

    private byte[] MutateBytes(byte[] bytes, StringBuilder log, ref int firstTouched)
    {
        var at = bytes.Length == 0 ? 0 : rng.Next(bytes.Length + 1);
        var kind = rng.Next(8);
        byte[] result;
        switch (kind)
        {
            case 0 when bytes.Length > 0:
                at = Math.Min(at, bytes.Length - 1);
                result = (byte[])bytes.Clone();
                result[at] ^= (byte)(1 << rng.Next(8));
                log.Append($"bit flip @{at}; ");
                break;
            case 1:
                {
                    var insert = new byte[rng.Next(1, 9)];
                    for (var i = 0; i < insert.Length; i++)
                    {
                        insert[i] = rng.Next(2) == 0 ? Interesting[rng.Next(Interesting.Length)] : (byte)rng.Next(256);
                    }

                    result = FrameGenerator.Concat(bytes[..at], insert, bytes[at..]);
                    log.Append($"insert {insert.Length} @{at}; ");
                    break;
                }

            case 2:
                {
                    var n = Math.Min(rng.Next(1, 9), bytes.Length - at);
                    result = FrameGenerator.Concat(bytes[..at], bytes[(at + n)..]);
                    log.Append($"delete {n} @{at}; ");
                    break;
                }

            case 3:
                result = bytes[..at];
                log.Append($"truncate @{at}; ");
                break;
            case 4 when bytes.Length > 0:
                {
                    var from = rng.Next(bytes.Length);
                    var n = Math.Min(rng.Next(1, 200), bytes.Length - from);
                    result = FrameGenerator.Concat(bytes[..at], bytes[from..(from + n)], bytes[at..]);
                    log.Append($"duplicate [{from},+{n}) @{at}; ");
                    break;
                }

            case 5:
                {
                    var garbage = new byte[rng.Next(1, 65)];
                    rng.NextBytes(garbage);
                    result = FrameGenerator.Concat(bytes[..at], garbage, bytes[at..]);
                    log.Append($"garbage {garbage.Length} @{at}; ");
                    break;
                }

            case 6:
                {
                    // A whole foreign frame (valid on its own) dropped into the middle of another one.
                    var foreign = generator.Next().Bytes;
                    result = FrameGenerator.Concat(bytes[..at], foreign, bytes[at..]);
                    log.Append($"frame spliced @{at}; ");
                    break;
                }

            default:
                {
                    // Overwrite a digit with another digit: sizes and sids that are wrong but still numbers.
                    result = (byte[])bytes.Clone();
                    var digit = Array.FindIndex(result, Math.Min(at, Math.Max(0, result.Length - 1)), b => b is >= (byte)'0' and <= (byte)'9');
                    if (digit < 0)
                    {
                        return bytes;
                    }

                    at = digit;
                    result[digit] = (byte)('0' + rng.Next(10));
                    log.Append($"digit @{at}; ");
                    break;
                }
        }

        firstTouched = Math.Min(firstTouched, at);
        return result;
    }
}

using System.CommandLine;
using System.Globalization;
using CacheProvider.KvDoctor.Audit;
using CacheProvider.KeyValue;

namespace CacheProvider.KvDoctor.Commands;

/// <summary><c>watch &lt;bucket&gt;</c>: live changes with operation, marker reason and lateness after the TTL deadline.</summary>
internal static class WatchCommand
{
    public static Command Create(ToolIo io, ConnectionFlags connection)
    {
        var bucketArg = new Argument<string>("bucket") { Description = "Bucket to watch" };
        var key = new Option<string>("--key") { Description = "Key filter (wildcards * and >)", DefaultValueFactory = _ => ">" };
        var updatesOnly = new Option<bool>("--updates-only") { Description = "Skip the current value of each key (deadlines of existing keys are then unknown)" };
        var count = new Option<int>("--count") { Description = "Stop after this many changes (0 = until Ctrl+C)" };
        var command = new Command("watch", "Show live changes: operation, marker reason, TTL and lateness of expiry markers") { bucketArg, key, updatesOnly, count };
        command.SetAction((parse, ct) => Runner.RunAsync(io, connection, parse, () =>
        {
            var limit = parse.GetValue(count);
            return limit >= 0 ? limit : throw new UsageException("--count must not be negative");
        }, async (nats, limit) =>
        {

            var bucket = await AuditRunner.BindAsync(new KvContext(nats), parse.GetValue(bucketArg)!, ct).ConfigureAwait(false);
            var watcher = await bucket.StartWatchAsync([parse.GetValue(key) ?? ">"], new KvWatchOptions { UpdatesOnly = parse.GetValue(updatesOnly), HeadersOnly = true }, ct).ConfigureAwait(false);
            await using (watcher.ConfigureAwait(false))
            {
                await io.Out.WriteLineAsync($"Watching {bucket.Bucket} (Ctrl+C to stop)").ConfigureAwait(false);
                await io.Out.FlushAsync(ct).ConfigureAwait(false);
                var deadlines = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
                var seen = 0;
                try
                {
                    await foreach (var e in watcher.ReadAllAsync(ct).ConfigureAwait(false))
                    {
                        await io.Out.WriteLineAsync(Describe(e, deadlines)).ConfigureAwait(false);
                        await io.Out.FlushAsync(ct).ConfigureAwait(false);
                        if (limit > 0 && ++seen >= limit)
                        {
                            break;
                        }
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    // Ctrl+C: a normal end.
                }
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    /// <summary>One line per change; remembers each key's TTL deadline to report how late its marker came.</summary>
    internal static string Describe(KvEntry e, Dictionary<string, DateTimeOffset> deadlines)
    {
        var op = e.MarkerReason != KvMarkerReason.None ? $"MARKER({e.MarkerReason})" : e.Operation.ToString().ToUpperInvariant();
        var line = string.Create(CultureInfo.InvariantCulture, $"{e.Created:HH:mm:ss.fff} {op,-17} {e.Key} rev={e.Revision}");
        if (e.Ttl is { } ttl)
        {
            line += ttl == Timeout.InfiniteTimeSpan ? " ttl=never" : $" ttl={Durations.Format(ttl)}";
        }

        if (e.MarkerReason != KvMarkerReason.None)
        {
            line += deadlines.Remove(e.Key, out var deadline)
                ? string.Create(CultureInfo.InvariantCulture, $" deadline={deadline:HH:mm:ss.fff} late={(e.Created - deadline).TotalMilliseconds:+0;-0}ms")
                : " deadline=unknown";
        }
        else if (e.Operation == KvOperation.Put && e.ExpiresAt is { } at)
        {
            deadlines[e.Key] = at;
            line += string.Create(CultureInfo.InvariantCulture, $" expires={at:HH:mm:ss.fff}");
        }
        else
        {
            deadlines.Remove(e.Key);
        }

        return line;
    }
}

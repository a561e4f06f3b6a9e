using System.CommandLine;
using CacheProvider.KvDoctor.Commands;

namespace CacheProvider.KvDoctor;

/// <summary>The <c>kv-doctor</c> command line, runnable in-process (tests) or from <c>Main</c>.</summary>
public static class KvDoctorApp
{
    /// <summary>Parses <paramref name="args"/> and runs the command; returns the exit code (see <see cref="ExitCodes"/>).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var io = new ToolIo(output, error);
        var connection = new ConnectionFlags();
        var thresholds = new ThresholdFlags();
        var root = new RootCommand("kv-doctor: finds and fixes NATS KV tombstone growth, missing limit markers and TTL-less mirrors")
        {
            AuditCommand.Create(io, connection, thresholds),
            FixCommand.Create(io, connection, thresholds),
            WatchCommand.Create(io, connection),
            MirrorCommand.Create(io, connection),
        };
        connection.AddTo(root);

        var parse = root.Parse(args);

        // An unknown "--flag" would otherwise be taken as a bucket name by commands that accept several.
        var unknown = parse.Tokens.Where(t => t.Type == System.CommandLine.Parsing.TokenType.Argument && t.Value.Length > 1 && t.Value[0] == '-')
            .Select(t => $"Unrecognized option '{t.Value}'.");
        var errors = parse.Errors.Select(e => e.Message).Concat(unknown).Distinct().ToList();
        if (errors.Count > 0)
        {
            foreach (var e in errors)
            {
                await error.WriteLineAsync($"kv-doctor: {e}").ConfigureAwait(false);
            }

            await error.WriteLineAsync("Run 'kv-doctor --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken).ConfigureAwait(false);
    }
}

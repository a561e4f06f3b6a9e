using System.CommandLine;
using CacheProvider.Nats;
using CacheProvider.Nats.JetStream;

namespace CacheProvider.KvDoctor.Commands;

/// <summary>Connects with the parsed flags, runs a command body and maps failures to exit codes and clear messages.</summary>
internal static class Runner
{
    public static Task<int> RunAsync(ToolIo io, ConnectionFlags flags, ParseResult parse, Func<NatsConnection, Task<int>> body, CancellationToken cancellationToken) =>
        RunAsync(io, flags, parse, () => 0, (nats, _) => body(nats), cancellationToken);

    /// <summary>Runs <paramref name="prepare"/> (flag validation) before connecting, so bad values exit 2 even without a server.</summary>
    public static async Task<int> RunAsync<T>(ToolIo io, ConnectionFlags flags, ParseResult parse, Func<T> prepare, Func<NatsConnection, T, Task<int>> body, CancellationToken cancellationToken)
    {
        NatsOptions options;
        T prepared;
        try
        {
            options = flags.ToOptions(parse);
            prepared = prepare();
        }
        catch (UsageException ex)
        {
            return Usage(io, ex.Message);
        }

        var connection = new NatsConnection(options);
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                await connection.ConnectAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (NatsAuthorizationException ex)
            {
                await io.Error.WriteLineAsync($"kv-doctor: {Describe(options)} refused the credentials: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Unreachable;
            }
            catch (NatsException ex)
            {
                await io.Error.WriteLineAsync($"kv-doctor: cannot reach {Describe(options)}: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Unreachable;
            }

            try
            {
                return await body(connection, prepared).ConfigureAwait(false);
            }
            catch (UsageException ex)
            {
                return Usage(io, ex.Message);
            }
            catch (NatsNoRespondersException)
            {
                await io.Error.WriteLineAsync($"kv-doctor: {Describe(options)} has no JetStream (no responders on $JS.API); start nats-server with -js").ConfigureAwait(false);
                return ExitCodes.Unreachable;
            }
            catch (JetStreamApiException ex)
            {
                await io.Error.WriteLineAsync($"kv-doctor: the server refused: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            catch (NatsPermissionException ex)
            {
                await io.Error.WriteLineAsync($"kv-doctor: permission denied: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Unreachable;
            }
            catch (NatsException ex)
            {
                await io.Error.WriteLineAsync($"kv-doctor: lost {Describe(options)}: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Unreachable;
            }
        }
    }

    public static int Usage(ToolIo io, string message)
    {
        io.Error.WriteLine($"kv-doctor: {message}");
        io.Error.WriteLine("Run 'kv-doctor --help' for usage.");
        return ExitCodes.Usage;
    }

    private static string Describe(NatsOptions options)
    {
        var s = options.ToString();
        var start = s.IndexOf("Url = ", StringComparison.Ordinal) + 6;
        var end = s.IndexOf(", Name", StringComparison.Ordinal);
        return start > 5 && end > start ? s[start..end] : "the NATS server";
    }
}

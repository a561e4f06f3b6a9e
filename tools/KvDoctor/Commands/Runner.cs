using System.CommandLine;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace CacheProvider.KvDoctor.Commands;

/// <summary>Connects with the parsed flags, runs a command body and maps failures to exit codes and clear messages.</summary>
internal static class Runner
{
    public static Task<int> RunAsync(ToolIo io, ConnectionFlags flags, ParseResult parse, Func<NatsConnection, Task<int>> body, CancellationToken cancellationToken) =>
        RunAsync(io, flags, parse, () => 0, (nats, _) => body(nats), cancellationToken);

    /// <summary>Runs <paramref name="prepare"/> (flag validation) before connecting, so bad values exit 2 even without a server.</summary>
    public static async Task<int> RunAsync<T>(ToolIo io, ConnectionFlags flags, ParseResult parse, Func<T> prepare, Func<NatsConnection, T, Task<int>> body, CancellationToken cancellationToken)
    {
        NatsOpts options;
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

        // Never the options themselves: NatsOpts.ToString() prints passwords, tokens and seeds.
        var server = ConnectionFlags.Redact(options.Url);
        var connection = new NatsConnection(options);
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (NatsException ex) when (IsAuthError(ex))
            {
                await io.Error.WriteLineAsync($"kv-doctor: {server} refused the credentials: {Scrub(Innermost(ex).Message, options)}").ConfigureAwait(false);
                return ExitCodes.Unreachable;
            }
            catch (NatsException ex)
            {
                await io.Error.WriteLineAsync($"kv-doctor: cannot reach {server}: {Scrub(Innermost(ex).Message, options)}").ConfigureAwait(false);
                return ExitCodes.Unreachable;
            }

            if (connection.ServerInfo is { JetStreamAvailable: false })
            {
                await io.Error.WriteLineAsync($"kv-doctor: {server} has no JetStream; start nats-server with -js").ConfigureAwait(false);
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
            catch (Exception ex) when (ex is NatsNoRespondersException or NatsJSApiNoResponseException)
            {
                await io.Error.WriteLineAsync($"kv-doctor: {server} has no JetStream (no responders on $JS.API); start nats-server with -js").ConfigureAwait(false);
                return ExitCodes.Unreachable;
            }
            catch (NatsJSApiException ex)
            {
                await io.Error.WriteLineAsync($"kv-doctor: the server refused: {Scrub(ex.Message, options)}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            catch (NatsException ex) when (ex.Message.Contains("Permissions Violation", StringComparison.OrdinalIgnoreCase))
            {
                await io.Error.WriteLineAsync($"kv-doctor: permission denied: {Scrub(ex.Message, options)}").ConfigureAwait(false);
                return ExitCodes.Unreachable;
            }
            catch (NatsException ex)
            {
                await io.Error.WriteLineAsync($"kv-doctor: lost {server}: {Scrub(ex.Message, options)}").ConfigureAwait(false);
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

    private static bool IsAuthError(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is NatsServerException { IsAuthError: true } ||
                e.Message.Contains("Authorization Violation", StringComparison.OrdinalIgnoreCase) ||
                e.Message.Contains("authentication", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary><paramref name="message"/> with every secret of <paramref name="options"/> (and URL user info) masked.</summary>
    private static string Scrub(string message, NatsOpts options)
    {
        var a = options.AuthOpts;
        foreach (var secret in new[] { a.Password, a.Token, a.Seed, a.Jwt })
        {
            if (!string.IsNullOrEmpty(secret))
            {
                message = message.Replace(secret, "***", StringComparison.Ordinal);
            }
        }

        foreach (var url in options.Url.Split(','))
        {
            var u = url.Trim();
            if (u.Length > 0)
            {
                message = message.Replace(u, ConnectionFlags.Redact(u), StringComparison.Ordinal);
            }
        }

        return message;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is { } inner)
        {
            ex = inner;
        }

        return ex;
    }
}

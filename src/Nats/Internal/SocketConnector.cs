using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Nats.Internal;

/// <summary>A socket that completed the CONNECT handshake.</summary>
internal sealed class Established(Socket socket, Stream stream, PipeReader reader, ServerInfo info, NatsUri uri)
{
    public Socket Socket { get; } = socket;
    public Stream Stream { get; } = stream;
    public PipeReader Reader { get; } = reader;
    public ServerInfo Info { get; set; } = info;
    public NatsUri Uri { get; } = uri;

    public void Abort()
    {
        try
        {
            Socket.Dispose();
            Stream.Dispose();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}

/// <summary>Opens a connection to one server: TCP, INFO, optional TLS upgrade, CONNECT, resubscribe, PING/PONG.</summary>
internal static class SocketConnector
{
    public static async Task<Established> ConnectAsync(
        NatsUri uri, NatsOptions options, NatsUri? credentialSource, ReadOnlyMemory<byte> afterConnect, IProtocolHandler messages, ILogger logger, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        var serverVerifiesClient = false;
        try
        {
            await socket.ConnectAsync(uri.Host, uri.Port, timeout.Token).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: true);
            var info = await ReadInfoAsync(stream, timeout.Token).ConfigureAwait(false);
            var useTls = uri.IsTls || options.Tls is not null || info.TlsRequired;
            if (useTls)
            {
                var hasClientCertificate = options.Tls is { ClientCertificate: not null } or { CertFile: not null };
                if (info.TlsVerify && !hasClientCertificate)
                {
                    // With TLS 1.3 the handshake would "succeed" and the server hang up afterwards: say why up front.
                    throw new NatsAuthorizationException($"{uri} requires a TLS client certificate (mutual TLS) and none is configured");
                }

                serverVerifiesClient = info.TlsVerify;
                stream = await UpgradeAsync(stream, uri, options.Tls ?? new NatsTlsOptions(), logger, timeout.Token).ConfigureAwait(false);
            }

            await SendConnectAsync(stream, uri, options, credentialSource, useTls, afterConnect, timeout.Token).ConfigureAwait(false);
            var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 65536, minimumReadSize: 16384, leaveOpen: true));
            info = await AwaitPongAsync(reader, stream, info, uri, messages, timeout.Token).ConfigureAwait(false);
            return new Established(socket, stream, reader, info, uri);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Dispose(socket, stream);
            throw new NatsConnectionException($"Connecting to {uri} timed out after {options.ConnectTimeout.TotalMilliseconds:0} ms");
        }
        catch (AuthenticationException ex)
        {
            Dispose(socket, stream);
            throw new NatsAuthorizationException($"TLS authentication with {uri} failed: {ex.Message}", ex);
        }
        catch (Exception ex) when (serverVerifiesClient && ex is IOException or (NatsConnectionException and not NatsAuthorizationException))
        {
            // With TLS 1.3 a server refusing our certificate just hangs up: depending on timing we see end of stream
            // late in the handshake, an alert on the first read, or a reset on the CONNECT write.
            Dispose(socket, stream);
            throw new NatsAuthorizationException($"{uri} closed the TLS session before the handshake completed; it most likely refused the client certificate ({ex.Message})", ex);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            Dispose(socket, stream);
            throw new NatsConnectionException($"The TLS settings for {uri} cannot be used: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            Dispose(socket, stream);
            throw new NatsConnectionException($"Cannot connect to {uri}: {ex.Message}", ex);
        }
        catch
        {
            Dispose(socket, stream);
            throw;
        }
    }

    private static void Dispose(Socket socket, Stream? stream)
    {
        stream?.Dispose();
        socket.Dispose();
    }

    /// <summary>Reads the plaintext INFO line that precedes any TLS upgrade.</summary>
    private static async Task<ServerInfo> ReadInfoAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= ProtocolParser.MaxControlLine)
                    {
                        throw new NatsProtocolException("INFO line too long");
                    }

                    var bigger = ArrayPool<byte>.Shared.Rent(length * 2);
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                // One byte at a time would be safe but slow; the server sends nothing after INFO until CONNECT.
                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new NatsConnectionException("Server closed the connection before sending INFO");
                }

                length += read;
                var lf = buffer.AsSpan(0, length).IndexOf((byte)'\n');
                if (lf < 0)
                {
                    continue;
                }

                var line = buffer.AsSpan(0, lf).TrimEnd((byte)'\r');
                if (!line.StartsWith("INFO "u8))
                {
                    throw new NatsProtocolException("Server did not start with INFO");
                }

                return ParseInfo(line[5..]);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static ServerInfo ParseInfo(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, NatsJsonContext.Default.ServerInfo)
                ?? throw new NatsProtocolException("Empty INFO");
        }
        catch (JsonException ex)
        {
            throw new NatsProtocolException($"Malformed INFO: {ex.Message}");
        }
    }

    private static async Task<Stream> UpgradeAsync(Stream inner, NatsUri uri, NatsTlsOptions tls, ILogger logger, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        var auth = new SslClientAuthenticationOptions
        {
            TargetHost = tls.TargetHost ?? uri.Host,
            EnabledSslProtocols = SslProtocols.None,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        var ca = tls.CaCertificates;
        if (tls.CaFile is not null)
        {
            ca = [.. ca ?? []];
            ca.ImportFromPemFile(tls.CaFile);
        }

        if (tls.InsecureSkipVerify)
        {
            logger.LogWarning("TLS server verification is disabled for {Server}: for local development only", uri.ToString());
#pragma warning disable CA5359 // Explicit, documented, dev-only opt-in (NatsTlsOptions.InsecureSkipVerify); logged above.
            auth.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        else if (ca is { Count: > 0 })
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(ca);
            auth.CertificateChainPolicy = policy;
        }

        var clientCert = tls.ClientCertificate;
        if (clientCert is null && tls.CertFile is not null)
        {
            clientCert = X509Certificate2.CreateFromPemFile(tls.CertFile, tls.KeyFile);
        }

        if (clientCert is not null)
        {
            auth.ClientCertificates = [clientCert];
        }

        await ssl.AuthenticateAsClientAsync(auth, cancellationToken).ConfigureAwait(false);
        return ssl;
    }

    private static async Task SendConnectAsync(
        Stream stream, NatsUri uri, NatsOptions options, NatsUri? credentialSource, bool tls, ReadOnlyMemory<byte> afterConnect, CancellationToken cancellationToken)
    {
        var creds = uri.User is not null || uri.Token is not null ? uri : credentialSource;
        var connect = new ConnectRequest
        {
            Name = options.Name,
            TlsRequired = tls,
            User = options.User ?? creds?.User,
            Pass = options.Password ?? creds?.Password,
            AuthToken = options.Token ?? creds?.Token,
        };
        var json = JsonSerializer.SerializeToUtf8Bytes(connect, NatsJsonContext.Default.ConnectRequest);
        using var buffer = new PooledBuffer(json.Length + afterConnect.Length + 64);
        Write(buffer, "CONNECT "u8);
        Write(buffer, json);
        Write(buffer, "\r\n"u8);
        Write(buffer, afterConnect.Span);
        Write(buffer, "PING\r\n"u8);
        await stream.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void Write(PooledBuffer buffer, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(buffer.GetSpan(bytes.Length));
        buffer.Advance(bytes.Length);
    }

    private static async Task<ServerInfo> AwaitPongAsync(PipeReader reader, Stream stream, ServerInfo info, NatsUri uri, IProtocolHandler messages, CancellationToken cancellationToken)
    {
        var parser = new ProtocolParser { MaxMessageSize = ProtocolParser.MessageLimit(info.MaxPayload) };
        var handler = new HandshakeHandler(info, messages);
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            try
            {
                while (!handler.Done && parser.TryParse(ref buffer, handler))
                {
                }
            }
            finally
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
            }

            if (handler.Error is not null)
            {
                if (handler.Error.Contains("Authorization", StringComparison.OrdinalIgnoreCase) ||
                    handler.Error.Contains("Authentication", StringComparison.OrdinalIgnoreCase))
                {
                    throw new NatsAuthorizationException($"{uri} refused the credentials: {handler.Error}");
                }

                throw new NatsServerErrorException(handler.Error);
            }

            if (handler.PingReceived)
            {
                handler.PingReceived = false;
                await stream.WriteAsync("PONG\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
            }

            if (handler.Done)
            {
                return handler.Info;
            }

            if (result.IsCompleted)
            {
                throw new NatsConnectionException($"{uri} closed the connection during the handshake");
            }
        }
    }

    private sealed class HandshakeHandler(ServerInfo info, IProtocolHandler messages) : IProtocolHandler
    {
        public ServerInfo Info { get; private set; } = info;
        public bool Done { get; private set; }
        public bool PingReceived { get; set; }
        public string? Error { get; private set; }

        public void OnInfo(ReadOnlySpan<byte> json) => Info = ParseInfo(json);

        public void OnMsg(ReadOnlySpan<byte> subject, long sid, ReadOnlySpan<byte> replyTo, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload)
            // A resubscribed subject can receive messages before our PING is answered: they must not be lost.
            => messages.OnMsg(subject, sid, replyTo, headers, payload);

        public void OnPing() => PingReceived = true;

        public void OnPong() => Done = true;

        public void OnOk()
        {
        }

        public void OnError(ReadOnlySpan<byte> message)
        {
            Error = Encoding.UTF8.GetString(message);
            Done = true;
        }
    }
}

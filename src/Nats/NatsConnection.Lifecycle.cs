using System.Buffers;
using System.Text;
using CacheProvider.Nats.Internal;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Nats;

/// <summary>Connecting, the read loop, keepalive, reconnecting and closing.</summary>
public sealed partial class NatsConnection
{
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private volatile NatsConnectionState _state = NatsConnectionState.New;
    private volatile Established? _current;
    private ServerInfo? _lastInfo;
    private int _generation;
    private int _pingsOut;
    private long _reconnects;
    private Task? _pingLoop;
    private Exception? _closeReason;

    /// <summary>Connects now (otherwise the first operation does). Safe to call more than once.</summary>
    /// <exception cref="NatsAuthorizationException">The server refused the credentials; not retried.</exception>
    /// <exception cref="NatsConnectionException">No server could be reached.</exception>
    public Task ConnectAsync(CancellationToken cancellationToken = default) => EnsureConnectedAsync(cancellationToken).AsTask();

    private ValueTask EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        var state = _state;
        if (state is NatsConnectionState.Connected or NatsConnectionState.Reconnecting)
        {
            return ValueTask.CompletedTask;
        }

        if (state == NatsConnectionState.Closed)
        {
            throw ClosedError();
        }

        return new ValueTask(ConnectFirstAsync(cancellationToken));
    }

    private async Task ConnectFirstAsync(CancellationToken cancellationToken)
    {
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_state != NatsConnectionState.New)
            {
                if (_state == NatsConnectionState.Closed)
                {
                    throw ClosedError();
                }

                return;
            }

            _state = NatsConnectionState.Connecting;
            Exception? last = null;
            foreach (var uri in _servers.Order(-1))
            {
                try
                {
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
                    var established = await SocketConnector.ConnectAsync(uri, Options, _servers.CredentialSource, ReadOnlyMemory<byte>.Empty, this, _logger, linked.Token).ConfigureAwait(false);
                    Activate(established);
                    _pingLoop = Task.Run(PingLoopAsync, CancellationToken.None);
                    _logger.LogInformation("Connected to {Server} (nats-server {Version})", uri.ToString(), established.Info.Version);
                    return;
                }
                catch (NatsAuthorizationException)
                {
                    // Wrong credentials do not become right by retrying: fail fast.
                    _state = NatsConnectionState.New;
                    throw;
                }
                catch (Exception ex) when (ex is NatsException && !cancellationToken.IsCancellationRequested)
                {
                    _logger.LogDebug(ex, "Connecting to {Server} failed", uri.ToString());
                    last = ex;
                }
            }

            _state = NatsConnectionState.New;
            throw last as NatsConnectionException ?? new NatsConnectionException($"Cannot connect to {NatsUri.Redact(Options.Url)}", last);
        }
        catch
        {
            // Whatever failed (cancellation, a TLS file that cannot be read, ...), a later call must try again:
            // left at Connecting, the next operation would take the client for connected and buffer forever.
            if (_state == NatsConnectionState.Connecting)
            {
                _state = NatsConnectionState.New;
            }

            throw;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <summary>
    /// What callers get once the connection is closed. Refused credentials keep their type, so that a caller
    /// arriving after the reconnect loop gave up can tell "fix the credentials" from "the server is gone".
    /// </summary>
    private NatsConnectionException ClosedError() => _closeReason is NatsAuthorizationException refused
        ? new NatsAuthorizationException($"The connection is closed: {refused.Message}", refused)
        : new NatsConnectionException("The connection is closed", _closeReason);

    private void Activate(Established established)
    {
        int generation;
        lock (_subs)
        {
            generation = ++_generation;
            _current = established;
            _lastInfo = established.Info;
            _pingsOut = 0;
            _state = NatsConnectionState.Connected;
        }

        _servers.Succeeded(established.Uri);
        _servers.AddDiscovered(established.Info.ConnectUrls);

        // Attach first: a read loop that fails at once detaches by generation, which only works once attached;
        // the other order could leave the writer attached to a dead socket, losing what is written meanwhile.
        _writer.Attach(established.Stream, generation);
        RunInBackground(() => ReadLoopAsync(established, generation), "read loop");
        if (established.Info.LameDuckMode)
        {
            Raise(LameDuckMode, new NatsConnectionEventArgs(established.Uri.ToString(), null));
        }
    }

    private async Task ReadLoopAsync(Established established, int generation)
    {
        var parser = new ProtocolParser();
        var reader = established.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    // Re-read per operation: an INFO in this very buffer may change max_payload for the next MSG.
                    do
                    {
                        parser.MaxMessageSize = ProtocolParser.MessageLimit(established.Info.MaxPayload);
                    }
                    while (parser.TryParse(ref buffer, this));
                }
                finally
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    throw new NatsConnectionException($"{established.Uri} closed the connection");
                }
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }

        if (error is NatsProtocolException)
        {
            _logger.LogWarning(error, "Protocol error from {Server}; reconnecting", established.Uri.ToString());
        }

        ConnectionLost(generation, _lastServerError ?? error);
    }

    private void OnWriteFailed(int generation, Exception error) => ConnectionLost(generation, error);

    private void ConnectionLost(int generation, Exception error)
    {
        Established? lost;
        lock (_subs)
        {
            if (generation != _generation || _state != NatsConnectionState.Connected)
            {
                return;
            }

            _state = NatsConnectionState.Reconnecting;
            lost = _current;
            _current = null;
        }

        _lastServerError = null;
        _writer.Detach(generation, error);
        lost?.Abort();
        _logger.LogWarning("Disconnected from {Server}: {Reason}", lost?.Uri.ToString(), error.Message);
        Raise(Disconnected, new NatsConnectionEventArgs(lost?.Uri.ToString(), error));
        RunInBackground(ReconnectLoopAsync, "reconnect loop");
    }

    /// <summary>Starts a loop that nobody awaits; should it ever fail, the failure is logged rather than left unobserved.</summary>
    private void RunInBackground(Func<Task> loop, string name) => _ = ObserveAsync(Task.Run(loop), name);

    private async Task ObserveAsync(Task loop, string name)
    {
        try
        {
            await loop.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The loops handle their own errors; reaching here is a bug (or a logger that throws). Unobserved, the
            // fault would surface at finalization as an UnobservedTaskException that applications report as an error.
            try
            {
                _logger.LogError(ex, "The {Loop} failed", name);
            }
            catch (Exception)
            {
                // The logger itself throws: there is nowhere left to report to, and throwing here would only leave
                // this task's fault unobserved instead.
            }
        }
    }

    /// <remarks>
    /// Refused credentials end the loop, as in the official clients: a server that refused them on two attempts
    /// in a row is not tried again, and once no server is left for that reason the connection closes with
    /// <see cref="NatsAuthorizationException"/> (failing pending requests, subscriptions and later callers).
    /// An unreachable server breaks a server's run of refusals and keeps the loop going, since it has not judged
    /// the credentials; a successful reconnect starts every count afresh.
    /// </remarks>
    private async Task ReconnectLoopAsync()
    {
        var round = 0;
        NatsAuthorizationException? refused = null;
        while (!_closing.IsCancellationRequested)
        {
            var candidates = _servers.Order(Options.MaxReconnectAttempts);
            if (candidates.Count == 0)
            {
                Exception reason = refused is not null && _servers.AnyRefusedCredentials
                    ? new NatsAuthorizationException($"Gave up reconnecting: the servers refused the credentials on consecutive attempts ({refused.Message})", refused)
                    : new NatsConnectionException("Gave up reconnecting: every server failed MaxReconnectAttempts times");
                _logger.LogError("{Reason}; the connection is closed", reason.Message);
                await CloseAsync(reason).ConfigureAwait(false);
                return;
            }

            foreach (var uri in candidates)
            {
                try
                {
                    var established = await SocketConnector.ConnectAsync(
                        uri, Options, _servers.CredentialSource, BuildResubscribe(), this, _logger, _closing.Token).ConfigureAwait(false);
                    if (_closing.IsCancellationRequested)
                    {
                        established.Abort();
                        return;
                    }

                    Interlocked.Increment(ref _reconnects);
                    Activate(established);
                    _logger.LogInformation("Reconnected to {Server}", uri.ToString());
                    Raise(Reconnected, new NatsConnectionEventArgs(uri.ToString(), null));
                    return;
                }
                catch (OperationCanceledException) when (_closing.IsCancellationRequested)
                {
                    return;
                }
                catch (NatsAuthorizationException ex)
                {
                    refused = ex;
                    _servers.Failed(uri, credentialsRefused: true);
                    _logger.LogWarning("Reconnect to {Server} failed: {Reason}", uri.ToString(), ex.Message);
                }
                catch (Exception ex)
                {
                    // Any failure counts against this server; an escaping exception would end the loop and
                    // leave the connection Reconnecting forever.
                    _servers.Failed(uri);
                    _logger.LogDebug("Reconnect to {Server} failed: {Reason}", uri.ToString(), ex.Message);
                }
            }

            if (refused is not null && _servers.Order(Options.MaxReconnectAttempts).Count == 0)
            {
                // The last servers just refused the credentials: close now rather than after one more backoff.
                continue;
            }

            var wait = Math.Min(Options.ReconnectWait.TotalMilliseconds * Math.Pow(2, Math.Min(round, 10)), Options.MaxReconnectWait.TotalMilliseconds);
            wait += Random.Shared.NextDouble() * Options.ReconnectJitter.TotalMilliseconds;
            round++;
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(wait), _closing.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>SUB (and remaining auto-unsubscribe counts) for every live subscription, sent before the handshake PING.</summary>
    private byte[] BuildResubscribe()
    {
        var sb = new StringBuilder();
        foreach (var (sid, sub) in _subs)
        {
            sb.Append("SUB ").Append(sub.Subject).Append(' ');
            if (sub.QueueGroup is not null)
            {
                sb.Append(sub.QueueGroup).Append(' ');
            }

            sb.Append(sid).Append("\r\n");
            if (sub.MaxMessages > 0)
            {
                sb.Append("UNSUB ").Append(sid).Append(' ').Append(Math.Max(1, sub.MaxMessages - sub.Delivered)).Append("\r\n");
            }
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private async Task PingLoopAsync()
    {
        using var timer = new PeriodicTimer(Options.PingInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_closing.Token).ConfigureAwait(false))
            {
                if (_state != NatsConnectionState.Connected)
                {
                    continue;
                }

                var generation = Volatile.Read(ref _generation);
                if (Interlocked.Increment(ref _pingsOut) > Options.MaxPingsOutstanding)
                {
                    ConnectionLost(generation, new NatsConnectionException("Stale connection: the server stopped answering pings"));
                    continue;
                }

                _ = _writer.WritePing(keepalive: true);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (NatsException)
        {
            // Closed.
        }
    }

    /// <summary>Closes the connection after trying briefly to send what is still buffered.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_state == NatsConnectionState.Connected && _writer.PendingBytes > 0)
        {
            try
            {
                await _writer.WritePing(keepalive: false).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException)
            {
                // Best effort only.
            }
        }

        await CloseAsync(null).ConfigureAwait(false);
    }

    private async Task CloseAsync(Exception? reason)
    {
        Established? current;
        lock (_subs)
        {
            if (_state == NatsConnectionState.Closed)
            {
                return;
            }

            _state = NatsConnectionState.Closed;
            _closeReason = reason;
            current = _current;
            _current = null;
            _generation++;
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        var error = reason ?? new NatsConnectionException("The connection was closed");

        // The writer stops taking commands synchronously; the socket is aborted before waiting for its loop,
        // which may sit in a write to a server that stopped reading.
        var writerClosed = _writer.CloseAsync(error);
        current?.Abort();
        await writerClosed.ConfigureAwait(false);
        _mux?.FailAll(error);
        _mux?.Dispose();
        foreach (var (sid, sub) in _subs)
        {
            if (_subs.TryRemove(sid, out _))
            {
                sub.Complete(reason);
            }
        }

        if (_pingLoop is not null)
        {
            await _pingLoop.ConfigureAwait(false);
        }

        Raise(Closed, new NatsConnectionEventArgs(current?.Uri.ToString(), reason));
    }
}

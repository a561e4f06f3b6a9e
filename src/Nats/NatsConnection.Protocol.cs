using System.Buffers;
using System.Text;
using CacheProvider.Nats.Internal;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Nats;

/// <summary>What the read loop's parser reports: INFO updates, messages, pings, and server errors.</summary>
public sealed partial class NatsConnection : IProtocolHandler
{
    private volatile Exception? _lastServerError;

    void IProtocolHandler.OnInfo(ReadOnlySpan<byte> json)
    {
        var info = SocketConnector.ParseInfo(json);
        var current = _current;
        if (current is not null)
        {
            current.Info = info;
        }

        _lastInfo = info;
        _servers.AddDiscovered(info.ConnectUrls);
        if (info.LameDuckMode)
        {
            _logger.LogInformation("{Server} entered lame duck mode", current?.Uri.ToString());
            Raise(LameDuckMode, new NatsConnectionEventArgs(current?.Uri.ToString(), null));
        }
    }

    void IProtocolHandler.OnMsg(ReadOnlySpan<byte> subject, long sid, ReadOnlySpan<byte> replyTo, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload)
    {
        if (!_subs.TryGetValue(sid, out var sub))
        {
            return;
        }

        try
        {
            sub.Deliver(new RawMessage(subject, replyTo, headers, payload));
        }
        catch (NatsProtocolException ex)
        {
            // The frame itself was well-formed; only this message's header block is not. Any publisher can send
            // such a block, so it costs that message, not every subscription on the connection.
            RaiseError(new NatsProtocolException($"Dropped a message on \"{sub.Subject}\" with malformed headers: {ex.Message}"));
        }

        if (sub.MaxMessages > 0 && ++sub.Delivered >= sub.MaxMessages && _subs.TryRemove(sid, out _))
        {
            sub.Complete(null);
        }
    }

    void IProtocolHandler.OnPing()
    {
        try
        {
            _writer.WriteControl("PONG\r\n"u8);
        }
        catch (NatsException)
        {
        }
    }

    void IProtocolHandler.OnPong()
    {
        Volatile.Write(ref _pingsOut, 0);
        _writer.OnPong();
    }

    void IProtocolHandler.OnOk()
    {
    }

    void IProtocolHandler.OnError(ReadOnlySpan<byte> message)
    {
        var text = Encoding.UTF8.GetString(message);
        const string Prefix = "Permissions Violation for ";
        if (text.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            // 'Permissions Violation for Publish to "x"' / 'for Subscription to "x"': that caller fails, the connection stays.
            var rest = text[Prefix.Length..];
            var to = rest.IndexOf(" to ", StringComparison.Ordinal);
            var operation = to > 0 ? rest[..to] : rest;
            var subject = to > 0 ? rest[(to + 4)..].Trim('"', ' ') : string.Empty;
            var space = subject.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0)
            {
                subject = subject[..space].Trim('"'); // "foo" using queue "q"
            }

            var error = new NatsPermissionException(operation, subject);
            if (operation.StartsWith("Sub", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var (sid, sub) in _subs)
                {
                    if (string.Equals(sub.Subject, subject, StringComparison.Ordinal) && _subs.TryRemove(sid, out _))
                    {
                        sub.Complete(error);
                    }
                }
            }
            else
            {
                _mux?.FailSubject(subject, error);
            }

            _logger.LogWarning("Server refused {Operation} on {Subject}", operation, subject);
            RaiseError(error);
            return;
        }

        var serverError = text.Contains("Authorization", StringComparison.OrdinalIgnoreCase)
            ? new NatsAuthorizationException($"Server error: {text}")
            : (Exception)new NatsServerErrorException(text);
        _lastServerError = serverError;
        _logger.LogWarning("Server error: {Error}", text);
        RaiseError(serverError);
    }

    private void RaiseError(Exception error) => Raise(Error, new NatsErrorEventArgs(error));

    private void Raise<TArgs>(EventHandler<TArgs>? handler, TArgs args)
    {
        if (handler is null)
        {
            return;
        }

        // Handlers run off the I/O loops so that a slow handler cannot stall the connection.
        ThreadPool.UnsafeQueueUserWorkItem(
            state =>
            {
                try
                {
                    state.handler(this, state.args);
                }
                catch (Exception ex)
                {
                    _logger.LogError(ex, "An event handler threw");
                }
            },
            (handler, args),
            preferLocal: false);
    }
}

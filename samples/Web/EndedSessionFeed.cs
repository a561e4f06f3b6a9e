using System.Threading.Channels;
using CacheProvider.Caching;
using CacheProvider.Sessions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Samples.Web;

/// <summary>One line of the live expirations page.</summary>
public sealed record FeedEvent(string Kind, string Key, string Reason, DateTimeOffset At);

/// <summary>
/// Hosted service: watches ended sessions (NatsSessionStore) and expired/removed cache keys (NatsDistributedCache)
/// and fans them out to the server-sent-event clients, keeping the last 50 for late joiners.
/// </summary>
public sealed class EndedSessionFeed(IServiceProvider services, NatsDistributedCache cache, ILogger<EndedSessionFeed> logger) : BackgroundService
{
    private readonly List<Channel<FeedEvent>> _subscribers = [];
    private readonly Queue<FeedEvent> _recent = new();

    /// <summary>Subscribes; the reader gets the recent events first. Dispose the lease to unsubscribe.</summary>
    public (ChannelReader<FeedEvent> Reader, IDisposable Lease) Subscribe()
    {
        var channel = Channel.CreateBounded<FeedEvent>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_subscribers)
        {
            foreach (var e in _recent)
            {
                channel.Writer.TryWrite(e);
            }

            _subscribers.Add(channel);
        }

        return (channel.Reader, new Lease(() =>
        {
            lock (_subscribers)
            {
                _subscribers.Remove(channel);
            }
        }));
    }

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var store = services.GetService(typeof(NatsSessionStore)) as NatsSessionStore;
        var sessions = store is null ? Task.CompletedTask : Pump(async ct =>
        {
            await foreach (var e in store.WatchEndedSessionsAsync(ct).ConfigureAwait(false))
            {
                Publish(new FeedEvent("session", Short(e.SessionKey), e.Reason == SessionEndReason.IdleTimeout ? "idle-timeout" : "removed", e.Timestamp));
            }
        }, stoppingToken);
        var keys = Pump(async ct =>
        {
            await foreach (var e in cache.WatchKeyEventsAsync(ct).ConfigureAwait(false))
            {
                var kind = e.Key is { } k && k.StartsWith("weather:", StringComparison.Ordinal) ? "cache" : "session-cache";
                Publish(new FeedEvent(kind, e.Key is null ? e.KvKey : Short(e.Key), e.Reason.ToString().ToLowerInvariant(), e.Timestamp));
            }
        }, stoppingToken);
        return Task.WhenAll(sessions, keys);
    }

    private static string Short(string key) => key.Length > 13 ? key[..13] : key;

    private async Task Pump(Func<CancellationToken, Task> loop, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                await loop(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Expiry watch failed; retrying in 1 s");
                try
                {
                    await Task.Delay(1000, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Publish(FeedEvent e)
    {
        logger.LogInformation("{Kind} {Key} ended: {Reason}", e.Kind, e.Key, e.Reason);
        lock (_subscribers)
        {
            _recent.Enqueue(e);
            if (_recent.Count > 50)
            {
                _recent.Dequeue();
            }

            foreach (var s in _subscribers)
            {
                s.Writer.TryWrite(e);
            }
        }
    }

    private sealed class Lease(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}

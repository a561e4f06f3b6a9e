using System.Text.Json;
using System.Threading.Channels;

namespace CacheProvider.Samples.Web.Board;

/// <summary>A part of the board that can describe its current state to a page that just connected.</summary>
internal interface IBoardSource
{
    /// <summary>The events that rebuild this part's current state on a fresh page, oldest first.</summary>
    IReadOnlyList<object> Snapshot();
}

/// <summary>
/// The board's server-sent-event fan-out: every part publishes its events (anonymous objects with a <c>type</c>) here;
/// a page that connects first gets each part's snapshot, then the live events. A slow page loses its oldest events,
/// never slows the publishers.
/// </summary>
internal sealed class BoardFeed
{
    private readonly List<Channel<string>> _subscribers = [];
    private readonly List<IBoardSource> _sources = [];

    /// <summary>Adds a part whose snapshot new pages receive.</summary>
    public void AddSource(IBoardSource source)
    {
        lock (_subscribers)
        {
            _sources.Add(source);
        }
    }

    /// <summary>Subscribes: the reader gets a hello (the server's clock), every part's snapshot, then live events.</summary>
    public (ChannelReader<string> Reader, IDisposable Lease) Subscribe()
    {
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_subscribers)
        {
            // Under the lock, so no event published meanwhile is lost or arrives before the snapshot it follows.
            channel.Writer.TryWrite(Serialize(new { type = "hello", serverMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }));
            foreach (var source in _sources)
            {
                foreach (var e in source.Snapshot())
                {
                    channel.Writer.TryWrite(Serialize(e));
                }
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

    /// <summary>Sends <paramref name="boardEvent"/> to every page.</summary>
    public void Publish(object boardEvent)
    {
        var json = Serialize(boardEvent);
        lock (_subscribers)
        {
            foreach (var s in _subscribers)
            {
                s.Writer.TryWrite(json);
            }
        }
    }

    private static string Serialize(object e) => JsonSerializer.Serialize(e, e.GetType());

    private sealed class Lease(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}

using System.Threading.Channels;
using CacheProvider.Caching;
using CacheProvider.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;

namespace CacheProvider.Tests.Sessions;

/// <summary>
/// The stock session (<c>DistributedSession</c>, via <see cref="RemoveOnClearSessionStore"/>) in the direct cache, and
/// "session ended" notifications from the cache's key events (<see cref="DistributedSessionEvents"/>).
/// </summary>
public sealed class DistributedSessionEventsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private NatsServer _server = null!;
    private NatsConnection _connection = null!;
    private NatsDistributedCache _cache = null!;

    public async Task InitializeAsync()
    {
        _server = await NatsServer.StartAsync(output);
        _connection = await _server.ConnectAsync();
        _cache = new NatsDistributedCache(_connection, new NatsDistributedCacheOptions { Bucket = "stock-sessions", LimitMarkerTtl = TimeSpan.FromSeconds(1) });
    }

    public async Task DisposeAsync()
    {
        await _cache.DisposeAsync();
        await _connection.DisposeAsync();
        await _server.DisposeAsync();
    }

    private static ISession Open(RemoveOnClearSessionStore store, string key, bool isNew, double idleSeconds = 60) =>
        store.Create(key, TimeSpan.FromSeconds(idleSeconds), TimeSpan.FromSeconds(10), () => true, isNew);

    [Fact]
    public async Task Idle_sessions_end_with_idle_timeout_and_cleared_ones_with_removed_and_other_keys_are_not_sessions()
    {
        var store = new RemoveOnClearSessionStore(_cache, NullLoggerFactory.Instance);
        var events = Channel.CreateUnbounded<SessionEnded>();
        using var stop = new CancellationTokenSource();
        var pump = Task.Run(async () =>
        {
            await foreach (var e in ((ICacheKeyEventSource)_cache).WatchEndedSessionsAsync(stop.Token))
            {
                events.Writer.TryWrite(e);
            }
        });
        var seen = new List<SessionEnded>();
        async Task<SessionEnded?> WaitForAsync(string sessionKey, TimeSpan patience)
        {
            using var timeout = new CancellationTokenSource(patience);
            try
            {
                while (seen.Find(e => e.SessionKey == sessionKey) is null)
                {
                    seen.Add(await events.Reader.ReadAsync(timeout.Token));
                }
            }
            catch (OperationCanceledException)
            {
                Assert.False(pump.IsFaulted, "the watch failed: " + pump.Exception);
                return null;
            }

            return seen.Find(e => e.SessionKey == sessionKey);
        }

        // Live once a probe removal is reported.
        var probe = Guid.NewGuid().ToString();
        for (var i = 0; i < 60 && await WaitForAsync(probe, TimeSpan.FromMilliseconds(500)) is null; i++)
        {
            await _cache.RemoveAsync(probe);
        }

        var idle = Guid.NewGuid().ToString();
        var idleSession = Open(store, idle, isNew: true, idleSeconds: 1);
        idleSession.SetString("user", "ada");
        await idleSession.CommitAsync();

        var loggedOut = Guid.NewGuid().ToString();
        var first = Open(store, loggedOut, isNew: true);
        first.SetString("user", "grace");
        await first.CommitAsync();
        var logout = Open(store, loggedOut, isNew: false);
        await logout.LoadAsync();
        Assert.Equal("grace", logout.GetString("user"));
        logout.Clear();
        await logout.CommitAsync();
        Assert.Null(await _cache.GetAsync(loggedOut));

        await _cache.SetAsync("weather:oslo", [1], new DistributedCacheEntryOptions());
        await _cache.RemoveAsync("weather:oslo");

        var removed = await WaitForAsync(loggedOut, Patience);
        Assert.NotNull(removed);
        Assert.Equal(SessionEndReason.Removed, removed.Reason);
        var expired = await WaitForAsync(idle, Patience);
        Assert.NotNull(expired);
        Assert.Equal(SessionEndReason.IdleTimeout, expired.Reason);
        Assert.DoesNotContain(seen, e => e.SessionKey == "weather:oslo");

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pump);
    }

    [Fact]
    public async Task A_session_with_values_after_Clear_is_stored_as_usual()
    {
        var store = new RemoveOnClearSessionStore(_cache, NullLoggerFactory.Instance);
        var key = Guid.NewGuid().ToString();
        var session = Open(store, key, isNew: true);
        session.SetString("a", "1");
        await session.CommitAsync();

        var again = Open(store, key, isNew: false);
        await again.LoadAsync();
        again.Clear();
        again.SetString("b", "2");
        await again.CommitAsync();

        var read = Open(store, key, isNew: false);
        await read.LoadAsync();
        Assert.Equal((null, "2"), (read.GetString("a"), read.GetString("b")));
        Assert.Equal(session.Id, read.Id);
    }

    [Theory]
    [InlineData("0f8fad5b-d9cb-469f-a165-70867728950e", true)]
    [InlineData("0f8fad5bd9cb469fa16570867728950e", false)]
    [InlineData("weather:oslo", false)]
    [InlineData("", false)]
    public void Session_keys_are_GUIDs_in_D_format(string key, bool isSession) => Assert.Equal(isSession, DistributedSessionEvents.IsSessionKey(key));
}

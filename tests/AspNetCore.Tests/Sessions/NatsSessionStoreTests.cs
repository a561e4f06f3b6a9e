using System.Text;
using CacheProvider.Sessions;
using Microsoft.AspNetCore.Http;
using NATS.Client.Core;

namespace CacheProvider.Tests.Sessions;

/// <summary>The session store against a real server: round trips per request, renewal, races, "session ended".</summary>
public sealed class NatsSessionStoreTests(ITestOutputHelper output) : IAsyncLifetime
{
    private NatsServer _server = null!;
    private NatsConnection _connection = null!;
    private NatsSessionStore _store = null!;

    public async Task InitializeAsync()
    {
        _server = await NatsServer.StartAsync(output);
        _connection = await _server.ConnectAsync();
        // Near cache off: these tests count round trips to the server (SessionNearCacheTests covers the near cache).
        _store = new NatsSessionStore(_connection, new NatsSessionStoreOptions { Bucket = "sessions", LimitMarkerTtl = TimeSpan.FromSeconds(1), NearCache = false });
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _server.DisposeAsync();
    }

    private ISession Open(string key, bool isNew = false, double idleSeconds = 60) =>
        _store.Create(key, TimeSpan.FromSeconds(idleSeconds), TimeSpan.FromSeconds(10), () => true, isNew);

    [Fact]
    public async Task New_session_costs_one_write_and_no_read()
    {
        var s = Open("k1", isNew: true);
        await s.LoadAsync();
        s.SetString("user", "ada");
        await s.CommitAsync();
        var stats = _store.Statistics;
        Assert.Equal((0, 1), (stats.Reads, stats.Writes));

        var again = Open("k1");
        await again.LoadAsync();
        Assert.Equal("ada", again.GetString("user"));
        Assert.Equal(s.Id, again.Id);
    }

    [Fact]
    public async Task Unchanged_request_reads_once_and_writes_nothing()
    {
        var s = Open("k2", isNew: true);
        s.SetString("user", "ada");
        await s.CommitAsync();
        var before = _store.Statistics;
        for (var i = 0; i < 5; i++)
        {
            var r = Open("k2");
            await r.LoadAsync();
            Assert.Equal("ada", r.GetString("user"));
            await r.CommitAsync();
        }

        var after = _store.Statistics;
        Assert.Equal(5, after.Reads - before.Reads);
        Assert.Equal(0, after.Writes - before.Writes + after.Renewals - before.Renewals);

        // A request that never touches the session costs nothing while this node knows a window is left.
        var untouched = Open("k2");
        await untouched.CommitAsync();
        Assert.Equal(after.RoundTrips, _store.Statistics.RoundTrips);
    }

    [Fact]
    public async Task Racing_commits_keep_both_changes()
    {
        var s = Open("k3", isNew: true);
        s.SetString("a", "0");
        await s.CommitAsync();
        var one = Open("k3");
        var two = Open("k3");
        await one.LoadAsync();
        await two.LoadAsync();
        one.SetString("a", "1");
        two.SetString("b", "2");
        await one.CommitAsync();
        await two.CommitAsync(); // loses the revision race, re-reads and re-applies "b"
        Assert.Equal(1, _store.Statistics.Conflicts);
        var check = Open("k3");
        await check.LoadAsync();
        Assert.Equal("1", check.GetString("a"));
        Assert.Equal("2", check.GetString("b"));
    }

    [Fact]
    public async Task Ended_sessions_are_reported_with_their_reason()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<SessionEnded>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in _store.WatchEndedSessionsAsync(cts.Token))
            {
                lock (seen)
                {
                    seen.Add(e);
                    if (seen.Count == 2)
                    {
                        return;
                    }
                }
            }
        });
        await Task.Delay(300);
        var idle = Open("idle", isNew: true, idleSeconds: 1);
        idle.SetString("x", "1");
        await idle.CommitAsync();
        var gone = Open("gone", isNew: true);
        gone.SetString("x", "1");
        await gone.CommitAsync();
        var logout = Open("gone");
        logout.Clear();
        await logout.CommitAsync();

        await watching.WaitAsync(cts.Token);
        Assert.Contains(seen, e => e is { SessionKey: "gone", Reason: SessionEndReason.Removed });
        Assert.Contains(seen, e => e is { SessionKey: "idle", Reason: SessionEndReason.IdleTimeout });
    }

    [Fact]
    public async Task Idle_session_is_gone_after_its_stored_ttl()
    {
        var s = Open("k4", isNew: true, idleSeconds: 1);
        s.Set("v", Encoding.UTF8.GetBytes("x"));
        await s.CommitAsync();
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var later = Open("k4", idleSeconds: 1);
        await later.LoadAsync();
        Assert.Empty(later.Keys);
    }

    [Fact]
    public async Task Setting_a_key_to_the_bytes_it_holds_writes_nothing()
    {
        var s = Open("k5", isNew: true);
        s.SetString("user", "ada");
        await s.CommitAsync();
        var before = _store.Statistics;
        var same = Open("k5");
        await same.LoadAsync();
        same.SetString("user", "ada");
        await same.CommitAsync();
        Assert.Equal(0, _store.Statistics.Writes - before.Writes);

        var changed = Open("k5");
        await changed.LoadAsync();
        changed.SetString("user", "grace");
        await changed.CommitAsync();
        Assert.Equal(1, _store.Statistics.Writes - before.Writes);
    }

    [Fact]
    public async Task Unchanged_set_still_wins_its_key_when_the_commit_re_applies_after_a_race()
    {
        var s = Open("k6", isNew: true);
        s.SetString("a", "0");
        await s.CommitAsync();
        var one = Open("k6");
        var two = Open("k6");
        await one.LoadAsync();
        await two.LoadAsync();
        one.SetString("a", "1");
        two.SetString("a", "0"); // what it read: no change by itself...
        two.SetString("b", "2"); // ...but this one makes it commit, after "one", so its "a" is re-applied
        await one.CommitAsync();
        await two.CommitAsync();
        var check = Open("k6");
        await check.LoadAsync();
        Assert.Equal(("0", "2"), (check.GetString("a"), check.GetString("b")));
    }

    [Fact]
    public void Payload_round_trips_keys_and_values_of_any_size()
    {
        var id = Guid.NewGuid();
        var values = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["empty"] = [],
            ["ünïcødé ключ"] = Encoding.UTF8.GetBytes("value"),
            [new string('k', 300)] = new byte[70_000],
        };
        var payload = SessionPayload.Write(id, values);
        Assert.True(SessionPayload.TryRead(payload, out var readId, out var read));
        Assert.Equal(id, readId);
        Assert.Equal(values.Count, read.Count);
        foreach (var (key, value) in values)
        {
            Assert.Equal(value, read[key]);
        }
    }
}

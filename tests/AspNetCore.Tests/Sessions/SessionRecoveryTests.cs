using System.Globalization;
using CacheProvider.Connection;
using CacheProvider.Sessions;
using Microsoft.AspNetCore.Http;
using NATS.Client.Core;

namespace CacheProvider.Tests.Sessions;

/// <summary>
/// Issue #24 for sessions: 32 sessions commit a change per request while the server is killed with SIGKILL and
/// restarted. A commit is a compare-and-set on the session's revision: one whose acknowledgement was lost is resent
/// after the reconnect and resolved by re-reading, so no request fails and no acknowledged change is lost.
/// </summary>
public sealed class SessionRecoveryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Session_commits_under_load_survive_kill_9_and_restart_without_a_failure_or_a_lost_change()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = new NatsConnection(new NatsConnectionOptions { Url = server.Url }.ApplyTo(NatsOpts.Default));
        var store = new NatsSessionStore(connection, new NatsSessionStoreOptions { Bucket = "sessions", LimitMarkerTtl = TimeSpan.FromSeconds(1) });
        try
        {
            // Bucket and connection exist before the clock starts (a kill during the first connect is not this test's case).
            var warm = store.Create("warm", TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(10), () => true, isNewSessionKey: true);
            warm.SetString("n", "0");
            await warm.CommitAsync();

            var report = await RestartUnderLoad.RunAsync(server, 32, async (w, n) =>
            {
                var session = store.Create($"s{w}", TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(10), () => true, isNewSessionKey: n == 1);
                await session.LoadAsync();
                session.SetString("n", n.ToString(CultureInfo.InvariantCulture));
                await session.CommitAsync();
            }, output);

            Assert.Empty(report.Failures);
            Assert.True(report.FirstAckAfterBack < TimeSpan.FromSeconds(3), report.ToString());
            for (var w = 0; w < report.LastAcknowledged.Length; w++)
            {
                var session = store.Create($"s{w}", TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(10), () => true, isNewSessionKey: false);
                await session.LoadAsync();
                Assert.Equal(report.LastAcknowledged[w], long.Parse(session.GetString("n")!, CultureInfo.InvariantCulture));
            }
        }
        finally
        {
            store.Dispose();
        }
    }
}

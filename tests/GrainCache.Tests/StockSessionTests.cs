using System.Diagnostics;
using System.Net;
using System.Text;
using CacheProvider.Caching;
using CacheProvider.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Orleans;
using Orleans.Hosting;

namespace CacheProvider.Grains.Caching.Tests;

/// <summary>
/// ASP.NET Core's stock session middleware (<c>AddSession()</c>) over the Orleans cache, end to end: a Kestrel host on
/// 127.0.0.1 that is an Orleans client of the test cluster (its grain factory) with its own NATS.Net connection, a real
/// HTTP client with cookies, and "session ended" events from the cache's key events.
/// </summary>
[Collection(CacheClusterCollection.Name)]
public sealed class StockSessionTests(CacheClusterFixture fixture, ITestOutputHelper output)
{
    private const string CookieName = ".test.session";
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(2);

    private CacheCluster Cluster => fixture.Cluster;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Session_values_survive_requests_and_idle_timeout_ends_the_session_with_an_idle_timeout_event(bool nearCache)
    {
        await using var web = await WebFront.StartAsync(Cluster, fixture.Server.Url, nearCache, removeOnClear: false);
        await using var ended = await web.WatchEndedSessionsAsync();

        Assert.Equal("1", await web.PostAsync("/count"));
        Assert.Equal("2", await web.PostAsync("/count"));
        Assert.Equal("2", await web.GetAsync("/count"));
        Assert.Equal("3", await web.PostAsync("/count"));
        var idle = Stopwatch.StartNew();
        var sessionKey = web.SessionKey();
        output.WriteLine($"session {sessionKey}, near cache {nearCache}");
        var bucket = await Cluster.BucketAsync();
        Assert.NotNull(await bucket.GetAsync(Cluster.KvKeyOf(sessionKey)));

        // Idle: the entry's stored TTL runs out and the server's marker ends the session.
        var end = await ended.FirstAsync(e => e.SessionKey == sessionKey, Eventually.Patience);
        Assert.NotNull(end);
        Assert.Equal(SessionEndReason.IdleTimeout, end.Reason);
        Assert.True(idle.Elapsed >= IdleTimeout, $"session ended after only {idle.Elapsed.TotalMilliseconds:F0} ms idle");

        // It really ended: the same cookie now gets an empty session.
        Assert.Equal("0", await web.GetAsync("/count"));
    }

    [Fact]
    public async Task Logout_removes_the_session_at_once_with_a_removed_event()
    {
        await using var web = await WebFront.StartAsync(Cluster, fixture.Server.Url, nearCache: true, removeOnClear: true);
        await using var ended = await web.WatchEndedSessionsAsync();

        Assert.Equal("1", await web.PostAsync("/count"));
        Assert.Equal("2", await web.PostAsync("/count"));
        Assert.Equal("2", await web.GetAsync("/count"));
        var sessionKey = web.SessionKey();
        var kvKey = Cluster.KvKeyOf(sessionKey);
        var bucket = await Cluster.BucketAsync();
        Assert.NotNull(await bucket.GetAsync(kvKey));

        Assert.Equal("ended", await web.PostAsync("/logout"));
        var end = await ended.FirstAsync(e => e.SessionKey == sessionKey, Eventually.Patience);
        Assert.NotNull(end);
        Assert.Equal(SessionEndReason.Removed, end.Reason);
        Assert.Null(await bucket.GetAsync(kvKey));
        Assert.Equal("0", await web.GetAsync("/count"));
    }

    [Fact]
    public async Task Without_the_remove_on_clear_store_a_logout_leaves_an_empty_session_stored()
    {
        // Why RemoveOnClearSessionStore exists: the stock DistributedSession stores a cleared session (it ends only when idle).
        await using var web = await WebFront.StartAsync(Cluster, fixture.Server.Url, nearCache: false, removeOnClear: false);
        Assert.Equal("1", await web.PostAsync("/count"));
        Assert.Equal("ended", await web.PostAsync("/logout"));
        var bucket = await Cluster.BucketAsync();
        var kvKey = Cluster.KvKeyOf(web.SessionKey());
        Assert.True(await Eventually.HoldsAsync(async () => await bucket.GetAsync(kvKey) is { IsValue: true } entry && entry.ValueLength > 0));
        Assert.Equal("0", await web.GetAsync("/count"));
    }

    /// <summary>The web app and an HTTP client with a cookie jar.</summary>
    private sealed class WebFront : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly NatsConnection _connection;
        private readonly CookieContainer _cookies = new();
        private readonly HttpClient _http;

        private WebFront(WebApplication app, NatsConnection connection)
        {
            _app = app;
            _connection = connection;
            BaseAddress = new Uri(app.Urls.First());
            Assert.Equal("127.0.0.1", BaseAddress.Host);
            _http = new HttpClient(new HttpClientHandler { CookieContainer = _cookies }) { BaseAddress = BaseAddress, Timeout = Eventually.Patience };
        }

        public Uri BaseAddress { get; }

        public static async Task<WebFront> StartAsync(CacheCluster cluster, string natsUrl, bool nearCache, bool removeOnClear)
        {
            var connection = await TestNats.ConnectAsync(natsUrl);
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var services = builder.Services;

            // An Orleans client app: the cluster's grain factory, and the app's own NATS.Net connection.
            services.AddSingleton<IGrainFactory>(cluster.Client);
            services.AddSingleton<INatsConnection>(connection);
            services.AddOrleansNatsDistributedCache(o =>
            {
                o.Bucket = CacheCluster.Bucket;
                o.ServiceId = CacheCluster.ServiceId;
                o.NearCacheEnabled = nearCache;
            });
            services.AddSession(o =>
            {
                o.IdleTimeout = IdleTimeout;
                o.Cookie.Name = CookieName;
            });
            if (removeOnClear)
            {
                services.AddRemoveOnClearSessionStore();
            }

            var app = builder.Build();
            app.UseSession();
            app.MapPost("/count", async (HttpContext ctx) =>
            {
                await ctx.Session.LoadAsync(ctx.RequestAborted);
                var n = (ctx.Session.GetInt32("count") ?? 0) + 1;
                ctx.Session.SetInt32("count", n);
                return n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            });
            app.MapGet("/count", async (HttpContext ctx) =>
            {
                await ctx.Session.LoadAsync(ctx.RequestAborted);
                return (ctx.Session.GetInt32("count") ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
            });
            app.MapPost("/logout", async (HttpContext ctx) =>
            {
                await ctx.Session.LoadAsync(ctx.RequestAborted);
                ctx.Session.Clear();
                return "ended";
            });
            await app.StartAsync();
            return new WebFront(app, connection);
        }

        public async Task<string> PostAsync(string path)
        {
            using var response = await _http.PostAsync(path, null);
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadAsStringAsync();
        }

        public Task<string> GetAsync(string path) => _http.GetStringAsync(path);

        /// <summary>
        /// The session key (the cache key of the session) behind the client's cookie, unprotected as the session
        /// middleware does it (URL-escaped base64 without padding, data protection purpose "SessionMiddleware").
        /// </summary>
        public string SessionKey()
        {
            var cookie = Uri.UnescapeDataString(_cookies.GetCookies(BaseAddress)[CookieName]?.Value ?? throw new InvalidOperationException("no session cookie"));
            var padded = cookie.PadRight(cookie.Length + ((4 - (cookie.Length % 4)) % 4), '=');
            var protector = _app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("SessionMiddleware");
            return Encoding.UTF8.GetString(protector.Unprotect(Convert.FromBase64String(padded)));
        }

        /// <summary>Watches ended sessions on the app's cache (its <see cref="ICacheKeyEventSource"/>), live when returned.</summary>
        public async Task<Collected<SessionEnded>> WatchEndedSessionsAsync()
        {
            var source = _app.Services.GetRequiredService<ICacheKeyEventSource>();
            var cache = _app.Services.GetRequiredService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>();
            Assert.Same(source, cache);
            var ended = new Collected<SessionEnded>(ct => source.WatchEndedSessionsAsync(ct));
            var probe = Guid.NewGuid().ToString();
            await ended.ProbeUntilLiveAsync(async () => { await cache.SetAsync(probe, [1], new DistributedCacheEntryOptions()); await cache.RemoveAsync(probe); }, e => e.SessionKey == probe);
            return ended;
        }

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using CacheProvider.Caching;
using CacheProvider.Connection;
using CacheProvider.Samples.Web.Board;
using CacheProvider.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Samples.Web;

/// <summary>
/// The sample app: a live board (keys with their own TTL and the server's expiry markers, two nodes' near caches,
/// presence, sessions that end, FusionCache on two nodes), session counter and cart, cache-aside, and a plain live
/// page of expirations (server-sent events).
/// </summary>
public static class WebDemo
{
    /// <summary>Builds and starts the app on 127.0.0.1; the returned app's <c>Urls</c> holds its address.</summary>
    public static async Task<WebApplication> StartAsync(WebDemoOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("CacheProvider.Samples.Web", LogLevel.Information);
        builder.WebHost.UseUrls($"http://127.0.0.1:{options.Port}");
        var services = builder.Services;
        services.AddNatsConnection(o => o.Url = options.NatsUrl);
        services.AddNatsDistributedCache(o => o.Bucket = "web-cache" + options.BucketSuffix);
        services.AddSession(o =>
        {
            o.IdleTimeout = options.IdleTimeout;
            o.Cookie.Name = ".demo.session";
        });
        if (options.StockRedisConfiguration is { } redis)
        {
            // The peer of the session benchmark: the stock session over RedisCache (registered last, so it is the IDistributedCache).
            services.AddStackExchangeRedisCache(o =>
            {
                o.Configuration = redis;
                o.InstanceName = "web-sessions" + options.BucketSuffix + ":";
            });
        }
        else if (!options.StockSessions)
        {
            services.AddNatsSessionStore(o =>
            {
                o.Bucket = "web-sessions" + options.BucketSuffix;
                o.NearCache = options.SessionNearCache;
            });
        }

        services.AddSingleton(options);
        if (options.Board)
        {
            services.AddBoard(options);
        }

        services.AddSingleton(_ => new FusionDemo(options));
        services.AddSingleton<EndedSessionFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<EndedSessionFeed>());
        var app = builder.Build();
        app.UseSession();
        Map(app, options);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return app;
    }

    private static void Map(WebApplication app, WebDemoOptions options)
    {
        app.MapGet("/", () => Results.Content(Pages.Home(options), "text/html; charset=utf-8"));
        app.MapGet("/expirations", () => Results.Content(Pages.Expirations, "text/html; charset=utf-8"));
        app.MapGet("/board.js", () => Results.Content(Pages.BoardScript, "text/javascript; charset=utf-8"));
        app.MapGet("/board.css", () => Results.Content(Pages.BoardStyle, "text/css; charset=utf-8"));
        if (options.Board)
        {
            app.MapBoard();
        }


        app.MapPost("/api/counter", async (HttpContext ctx) =>
        {
            await ctx.Session.LoadAsync(ctx.RequestAborted);
            var n = (ctx.Session.GetInt32("count") ?? 0) + 1;
            ctx.Session.SetInt32("count", n);
            return Results.Json(new { count = n });
        });
        app.MapGet("/api/session", async (HttpContext ctx) =>
        {
            await ctx.Session.LoadAsync(ctx.RequestAborted);
            return Results.Json(new { count = ctx.Session.GetInt32("count") ?? 0, cart = Cart(ctx.Session) });
        });
        app.MapPost("/api/cart", async (HttpContext ctx, string item) =>
        {
            await ctx.Session.LoadAsync(ctx.RequestAborted);
            var cart = Cart(ctx.Session);
            cart.Add(item);
            ctx.Session.SetString("cart", JsonSerializer.Serialize(cart));
            return Results.Json(new { cart });
        });
        app.MapPost("/api/logout", async (HttpContext ctx) =>
        {
            await ctx.Session.LoadAsync(ctx.RequestAborted);
            ctx.Session.Clear();
            return Results.Json(new { ended = true });
        });

        // Cache-aside: look in the cache, else compute (slowly) and store for 10 s.
        app.MapGet("/api/weather/{city}", async (string city, IDistributedCache cache, CancellationToken ct) =>
        {
            var key = "weather:" + city.ToLowerInvariant();
            var cached = await cache.GetStringAsync(key, ct);
            if (cached is not null)
            {
                return Results.Json(new { city, forecast = cached, source = "cache" });
            }

            await Task.Delay(200, ct); // the "slow backend"
            var forecast = string.Create(CultureInfo.InvariantCulture, $"{Random.Shared.Next(-5, 30)} °C at {DateTime.UtcNow:HH:mm:ss}");
            await cache.SetStringAsync(key, forecast, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(10) }, ct);
            return Results.Json(new { city, forecast, source = "backend" });
        });

        // Live expirations: server-sent events from the EndedSessionFeed hosted service.
        app.MapGet("/events", async (HttpContext ctx, EndedSessionFeed feed) =>
        {
            ctx.Response.Headers.ContentType = "text/event-stream";
            ctx.Response.Headers.CacheControl = "no-cache";
            var (reader, lease) = feed.Subscribe();
            using var _ = lease;
            await ctx.Response.WriteAsync(": connected\n\n", ctx.RequestAborted);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            try
            {
                await foreach (var e in reader.ReadAllAsync(ctx.RequestAborted))
                {
                    var json = JsonSerializer.Serialize(new { kind = e.Kind, key = e.Key, reason = e.Reason, at = e.At.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture) });
                    await ctx.Response.WriteAsync("data: " + json + "\n\n", Encoding.UTF8, ctx.RequestAborted);
                    await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        // Measurement endpoints: a read-mostly request (reads the session, changes nothing) and a writing one.
        app.MapGet("/bench/read", async (HttpContext ctx) =>
        {
            await ctx.Session.LoadAsync(ctx.RequestAborted);
            return Results.Text((ctx.Session.GetInt32("count") ?? 0).ToString(CultureInfo.InvariantCulture));
        });
        app.MapGet("/bench/write", async (HttpContext ctx) =>
        {
            await ctx.Session.LoadAsync(ctx.RequestAborted);
            var n = (ctx.Session.GetInt32("count") ?? 0) + 1;
            ctx.Session.SetInt32("count", n);
            return Results.Text(n.ToString(CultureInfo.InvariantCulture));
        });
        // FusionCache with the NATS backplane: two nodes, one update, both L1s change.
        app.MapGet("/api/fusion", (FusionDemo fusion, CancellationToken ct) => fusion.ReadBothAsync(ct));
        app.MapPost("/api/fusion", async (FusionDemo fusion, string value, CancellationToken ct) =>
        {
            await fusion.NodeA.SetAsync(FusionDemo.Key, value, token: ct);
            return await fusion.ReadBothAsync(ct);
        });

        app.MapGet("/api/stats", (IServiceProvider sp) =>
        {
            var store = sp.GetService<NatsSessionStore>();
            return Results.Json(new { mode = store is null ? "stock" : "nats", store = store?.Statistics });
        });
    }

    private static List<string> Cart(ISession session) =>
        session.GetString("cart") is { } json ? JsonSerializer.Deserialize<List<string>>(json) ?? [] : [];
}

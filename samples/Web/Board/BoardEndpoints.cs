using System.Text;
using CacheProvider.Presence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CacheProvider.Samples.Web.Board;

/// <summary>The board's services and HTTP endpoints: its event stream, its keys, the near caches and the devices.</summary>
internal static class BoardEndpoints
{
    /// <summary>Registers the board's parts (each a hosted service that publishes to one <see cref="BoardFeed"/>).</summary>
    public static IServiceCollection AddBoard(this IServiceCollection services, WebDemoOptions options)
    {
        services.AddNatsPresence(o =>
        {
            o.Bucket = "web-presence" + options.BucketSuffix;
            o.Ttl = options.PresenceTtl;
        });
        services.AddSingleton<BoardFeed>();
        AddPart<ExpiryBoard>(services);
        AddPart<NearCacheDemo>(services);
        AddPart<PresenceDemo>(services);
        return services;
    }

    /// <summary>Maps <c>/board/events</c> (server-sent events) and the board's <c>/api/board/…</c> actions.</summary>
    public static void MapBoard(this IEndpointRouteBuilder app)
    {
        app.MapGet("/board/events", async (HttpContext ctx, BoardFeed feed) =>
        {
            ctx.Response.Headers.ContentType = "text/event-stream";
            ctx.Response.Headers.CacheControl = "no-cache";
            var (reader, lease) = feed.Subscribe();
            using var _ = lease;
            try
            {
                await ctx.Response.WriteAsync(": connected\n\n", ctx.RequestAborted);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                await foreach (var json in reader.ReadAllAsync(ctx.RequestAborted))
                {
                    await ctx.Response.WriteAsync("data: " + json + "\n\n", Encoding.UTF8, ctx.RequestAborted);
                    await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        app.MapPost("/api/board/keys", async (ExpiryBoard board, string? key, double? ttl, CancellationToken ct) =>
        {
            var seconds = ttl ?? 0;
            if (ExpiryBoard.Check(key, seconds) is { } problem)
            {
                return Results.BadRequest(new { error = problem });
            }

            var revision = await board.WriteAsync(key!, TimeSpan.FromSeconds(seconds), ct);
            return Results.Json(new { key, ttl = seconds, revision });
        });
        app.MapPost("/api/board/keys/remove", async (ExpiryBoard board, string? key, CancellationToken ct) =>
        {
            if (ExpiryBoard.Check(key, 1) is { } problem)
            {
                return Results.BadRequest(new { error = problem });
            }

            await board.RemoveAsync(key!, ct);
            return Results.Json(new { key, removed = true });
        });
        app.MapPost("/api/board/seed", async (ExpiryBoard board, CancellationToken ct) =>
        {
            await board.SeedAsync(ct);
            return Results.Json(new { seeded = ExpiryBoard.Seed.Select(s => s.Key) });
        });
        app.MapPost("/api/near", async (NearCacheDemo near, string? value, CancellationToken ct) =>
            value is { Length: > 40 } ? Results.BadRequest(new { error = "value: at most 40 characters" }) : Results.Json(await near.WriteOnAAsync(value, ct)));
        app.MapPost("/api/devices/{device}", (PresenceDemo devices, string device, bool beating) =>
            devices.SetBeating(device, beating) ? Results.Json(new { device, beating }) : Results.NotFound(new { error = "unknown device" }));
        app.MapGet("/api/devices", async (IPresenceTracker presence, CancellationToken ct) =>
        {
            var online = await presence.GetOnlineAsync(PresenceDemo.Group, ct);
            return Results.Json(new { online = online.Select(m => m.Member).Order(StringComparer.Ordinal) });
        });
    }

    private static void AddPart<T>(IServiceCollection services)
        where T : class, Microsoft.Extensions.Hosting.IHostedService, IBoardSource
    {
        services.AddSingleton<T>();
        services.AddHostedService(sp => sp.GetRequiredService<T>());
    }
}

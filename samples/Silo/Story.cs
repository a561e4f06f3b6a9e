using System.Diagnostics;
using System.Text;
using CacheProvider.Grains;
using CacheProvider.KeyValue;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Samples.Silo;

/// <summary>
/// The whole story once, against the running silo: write a cart, read it back (through the grain and raw from the
/// KV bucket), see its reminder tick through the NATS reminder table, leave it alone until its TTL runs out, see the
/// activation deactivated with that reason, and find the state gone. Prints each step; true when all behaved.
/// </summary>
internal sealed class Story(IServiceProvider services, TimeSpan stateTtl)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private bool _ok = true;

    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        var grains = services.GetRequiredService<IGrainFactory>();
        var events = services.GetRequiredService<CartEvents>();
        var storage = services.GetRequiredKeyedService<NatsGrainStorage>(SampleNames.Storage);
        var reminders = services.GetRequiredService<IReminderTable>();
        var bucket = await new KvContext(services.GetRequiredService<INatsConnection>()).GetBucketAsync(storage.Options.Bucket, cancellationToken);
        var name = "alice-" + Guid.NewGuid().ToString("N")[..6];
        var cart = grains.GetGrain<ICartGrain>(name);
        var grainId = cart.GetGrainId();
        var key = storage.GetStateKey(SampleNames.CartState, grainId);
        var clock = Stopwatch.StartNew();
        Step($"cart '{name}': state TTL {stateTtl.TotalSeconds:0.#} s (per-state, StateTtls[\"{SampleNames.CartState}\"] / [StateTtl] on CartState)");

        // 1. Write.
        await cart.Add("apple");
        var written = await cart.Add("pear");
        Check(written.RecordExists && written.Items.SequenceEqual(["apple", "pear"]), $"wrote the cart through the grain: [{string.Join(", ", written.Items)}], ETag {written.ETag}");

        // 2. Read back: through the grain (a storage read) and raw from the bucket.
        var read = await cart.Get();
        Check(read.RecordExists && read.Items.SequenceEqual(written.Items), $"read it back through the grain: [{string.Join(", ", read.Items)}], ETag {read.ETag}");
        var raw = await bucket.GetAsync(key, cancellationToken: cancellationToken);
        Check(raw is { IsValue: true, Ttl: not null }, raw is null
            ? $"raw KV entry {key}: missing"
            : $"raw KV entry {key} (revision {raw.Revision}, Nats-TTL {raw.Ttl?.TotalSeconds:0.#} s): {Encoding.UTF8.GetString(raw.Value.Span)}");

        // 3. The reminder: a row in the NATS reminder table, and a tick.
        var rows = (await reminders.ReadRows(grainId, cancellationToken)).Reminders;
        Check(rows.Any(r => r.ReminderName == SampleNames.NudgeReminder), $"reminder row in the NATS table: {string.Join(", ", rows.Select(r => $"{r.ReminderName} every {r.Period.TotalSeconds:0.#} s"))}");
        var tick = await events.WaitForAsync(e => e.Cart == name && e.Kind == CartEventKind.ReminderTick, Patience, cancellationToken);
        Check(tick is not null, tick is null ? $"no reminder tick within {Patience.TotalSeconds} s" : $"reminder ticked after {clock.Elapsed.TotalSeconds:0.0} s: {tick.Detail}");

        // 4. Leave the cart alone until its TTL runs out: the watcher sees the expiry and the activation is deactivated.
        Step($"no more calls: waiting for the TTL ({stateTtl.TotalSeconds:0.#} s, stored as {raw?.Ttl?.TotalSeconds:0.#} s with RefreshTtlOnRead's renewal headroom) and the deactivation");
        var deactivationPatience = stateTtl * 1.5 + Patience;
        var gone = await events.WaitForAsync(e => e.Cart == name && e.Kind == CartEventKind.Deactivated, deactivationPatience, cancellationToken);
        Check(gone is not null && gone.Detail.Contains("expired", StringComparison.Ordinal), gone is null
            ? $"no deactivation within {deactivationPatience.TotalSeconds:0} s"
            : $"deactivated {clock.Elapsed.TotalSeconds:0.0} s in, {gone.Detail}");

        // 5. The state is gone: a new activation finds no cart, the bucket has no value, the reminder stops.
        var after = await cart.Get();
        Check(!after.RecordExists && after.Items.Length == 0 && after.ActivationId != read.ActivationId,
            $"a new activation reads no cart: exists={after.RecordExists}, items=[{string.Join(", ", after.Items)}], ETag {after.ETag ?? "null"}");
        var rawAfter = await bucket.GetAsync(key, cancellationToken: cancellationToken);
        Check(rawAfter is not { IsValue: true }, $"raw KV entry after expiry: {(rawAfter is null ? "none" : rawAfter.Operation + " " + rawAfter.MarkerReason)}");
        var stopped = await events.WaitForAsync(e => e.Cart == name && e.Kind == CartEventKind.ReminderStopped, Patience, cancellationToken);
        rows = (await reminders.ReadRows(grainId, cancellationToken)).Reminders;
        Check(stopped is not null && rows.Count == 0, stopped is null ? "the reminder was not unregistered" : $"{stopped.Detail}; rows left in the table: {rows.Count}");
        Step($"story took {clock.Elapsed.TotalSeconds:0.0} s");
        return _ok;
    }

    private static void Step(string what) => Console.WriteLine($"  ..   {what}");

    private void Check(bool condition, string what)
    {
        Console.WriteLine($"  {(condition ? "ok  " : "FAIL")} {what}");
        _ok &= condition;
    }
}

using CacheProvider.Nats.JetStream;

namespace CacheProvider.Nats.Tests.JetStream;

public sealed class JetStreamApiTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Api_info_reports_level_at_least_1_for_per_message_ttl()
    {
        await using var h = await JsHarness.StartAsync(output);
        var info = await h.Js.GetApiInfoAsync();
        Assert.True(info.Api.Level >= 1, $"api level {info.Api.Level}");
        Assert.Equal(0, info.Streams);
    }

    [Fact]
    public async Task Stream_create_info_update_delete_round_trip()
    {
        await using var h = await JsHarness.StartAsync(output);
        var created = await h.Js.CreateStreamAsync(new StreamConfig
        {
            Name = "ORDERS",
            Subjects = ["orders.>"],
            Description = "first",
            MaxAge = TimeSpan.FromMinutes(5),
            MaxMsgsPerSubject = 3,
            Metadata = new Dictionary<string, string> { ["owner"] = "tests" },
        });
        Assert.Equal("ORDERS", created.Config.Name);
        Assert.Equal(TimeSpan.FromMinutes(5), created.Config.MaxAge);
        Assert.Equal(3, created.Config.MaxMsgsPerSubject);
        Assert.Equal("tests", created.Config.Metadata!["owner"]);

        // Creating an identical stream again is idempotent.
        await h.Js.CreateStreamAsync(created.Config);

        await h.Js.PublishAsync("orders.1", JsHarness.Bytes("a"));
        var updated = await h.Js.UpdateStreamAsync(created.Config with { Description = "second", MaxMsgsPerSubject = 5 });
        Assert.Equal("second", updated.Config.Description);
        Assert.Equal(5, updated.Config.MaxMsgsPerSubject);

        var info = await h.Js.GetStreamInfoAsync("ORDERS");
        Assert.Equal(1UL, info.State.Messages);
        Assert.Equal(1UL, info.State.LastSeq);
        Assert.Equal("second", info.Config.Description);

        var names = await h.Js.ListStreamNamesAsync().ToListAsync();
        Assert.Equal(["ORDERS"], names);

        Assert.True(await h.Js.DeleteStreamAsync("ORDERS"));
        var ex = await Assert.ThrowsAsync<JetStreamApiException>(async () => await h.Js.GetStreamInfoAsync("ORDERS"));
        Assert.Equal(JetStreamErrorCode.StreamNotFound, ex.ErrorCode);
        Assert.Equal(404, ex.Code);
    }

    [Fact]
    public async Task Purge_with_subject_filter_and_keep_removes_only_older_messages_of_that_subject()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("P");
        for (var i = 0; i < 5; i++)
        {
            await h.Js.PublishAsync("p.a", JsHarness.Bytes($"a{i}"));
            await h.Js.PublishAsync("p.b", JsHarness.Bytes($"b{i}"));
        }

        var purged = await h.Js.PurgeStreamAsync("P", filter: "p.a", keep: 2);
        Assert.Equal(3UL, purged);
        var info = await h.Js.GetStreamInfoAsync("P");
        Assert.Equal(7UL, info.State.Messages);
        Assert.Equal("a4", JsHarness.Text((await h.Js.GetLastFromLeaderAsync("P", "p.a"))!.Data));

        // Without keep the filter removes every message of the subject, and nothing else.
        Assert.Equal(2UL, await h.Js.PurgeStreamAsync("P", filter: "p.a"));
        Assert.Null(await h.Js.GetLastFromLeaderAsync("P", "p.a"));
        Assert.Equal(5UL, (await h.Js.GetStreamInfoAsync("P")).State.Messages);

        Assert.Equal(5UL, await h.Js.PurgeStreamAsync("P"));
        Assert.Equal(0UL, (await h.Js.GetStreamInfoAsync("P")).State.Messages);
    }

    [Fact]
    public async Task Publish_returns_ack_with_stream_and_sequence_and_flags_duplicates()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("A");
        var headers = new NatsHeaders { { "Nats-Msg-Id", "once" } };
        var first = await h.Js.PublishAsync("a.x", JsHarness.Bytes("1"), headers);
        var again = await h.Js.PublishAsync("a.x", JsHarness.Bytes("1"), headers);
        Assert.Equal("A", first.Stream);
        Assert.Equal(1UL, first.Seq);
        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal(1UL, again.Seq);
    }

    [Fact]
    public async Task Publish_to_a_subject_no_stream_holds_throws_no_responders()
    {
        await using var h = await JsHarness.StartAsync(output);
        await Assert.ThrowsAsync<NatsNoRespondersException>(async () => await h.Js.PublishAsync("nobody.here", JsHarness.Bytes("x")));
    }

    [Fact]
    public async Task Publish_that_reached_no_stream_is_sent_again_within_the_write_retry_budget()
    {
        await using var h = await JsHarness.StartAsync(output);
        var patient = new JetStreamContext(h.Js.Connection) { WriteRetryBudget = TimeSpan.FromSeconds(20) };
        var impatient = new JetStreamContext(h.Js.Connection) { WriteRetryBudget = TimeSpan.Zero };

        await Assert.ThrowsAsync<NatsNoRespondersException>(async () => await impatient.PublishAsync("late.k", JsHarness.Bytes("lost")));
        var publish = patient.PublishAsync("late.k", JsHarness.Bytes("kept")).AsTask();
        await Task.Delay(300);
        Assert.False(publish.IsCompleted);
        await h.Js.CreateStreamAsync(new StreamConfig { Name = "LATE", Subjects = ["late.>"] });

        var ack = await publish.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("LATE", ack.Stream);
        Assert.Equal(1UL, ack.Seq); // the refused attempts stored nothing
    }

    [Fact]
    public async Task Purge_with_a_wildcard_filter_and_keep_keeps_that_many_messages_of_the_whole_filter_not_per_subject()
    {
        // Why KV tombstone clean-up cannot be one wildcard purge: "keep" counts across the filter, so a
        // keep-1 purge of "s.>" leaves only the newest message of the stream and removes every other subject's value.
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("P");
        await h.Js.PublishAsync("p.live", JsHarness.Bytes("v"));
        await h.Js.PublishAsync("p.other", JsHarness.Bytes("v"));
        await h.Js.PublishAsync("p.tomb", JsHarness.Bytes("t"));
        Assert.Equal(2UL, await h.Js.PurgeStreamAsync("P", "p.>", keep: 1));
        Assert.Null(await h.Js.GetLastFromLeaderAsync("P", "p.live"));
        Assert.NotNull(await h.Js.GetLastFromLeaderAsync("P", "p.tomb"));

        // keep and an upper sequence bound are mutually exclusive; the bound alone is per subject and race-free.
        var ex = await Assert.ThrowsAsync<JetStreamApiException>(async () => await h.Js.PurgeStreamAsync("P", "p.tomb", keep: 1, upToSequence: 3));
        Assert.Equal(JetStreamErrorCode.BadRequest, ex.ErrorCode);
        var later = await h.Js.PublishAsync("p.tomb", JsHarness.Bytes("new"));
        Assert.Equal(1UL, await h.Js.PurgeStreamAsync("P", "p.tomb", upToSequence: 4));
        Assert.Equal(later.Seq, (await h.Js.GetLastFromLeaderAsync("P", "p.tomb"))!.Sequence);
    }
}

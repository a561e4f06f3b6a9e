using CacheProvider.Nats.JetStream;

namespace CacheProvider.Nats.Tests.JetStream;

/// <summary>Every API error arrives as a <see cref="JetStreamApiException"/> with the server's code and err_code.</summary>
public sealed class JetStreamErrorTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Missing_stream_is_10059_for_info_delete_and_purge()
    {
        await using var h = await JsHarness.StartAsync(output);
        foreach (var call in new Func<Task>[]
        {
            async () => await h.Js.GetStreamInfoAsync("NOPE"),
            async () => await h.Js.DeleteStreamAsync("NOPE"),
            async () => await h.Js.PurgeStreamAsync("NOPE"),
            async () => await h.Js.GetLastFromLeaderAsync("NOPE", "x"),
        })
        {
            var ex = await Assert.ThrowsAsync<JetStreamApiException>(call);
            Assert.Equal(JetStreamErrorCode.StreamNotFound, ex.ErrorCode);
            Assert.Equal(404, ex.Code);
            Assert.False(string.IsNullOrEmpty(ex.Description));
        }
    }

    [Fact]
    public async Task Expected_last_subject_sequence_mismatch_is_10071()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("W");
        await h.Js.PublishAsync("w.k", JsHarness.Bytes("1"));
        var ex = await Assert.ThrowsAsync<JetStreamApiException>(async () =>
            await h.Js.PublishAsync("w.k", JsHarness.Bytes("2"), new NatsHeaders { { "Nats-Expected-Last-Subject-Sequence", "0" } }));
        Assert.Equal(JetStreamErrorCode.WrongLastSequence, ex.ErrorCode);
        Assert.True(ex.IsWrongLastSequence);
        Assert.Equal(400, ex.Code);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("abc")]
    [InlineData("500ms")]
    public async Task Invalid_ttl_header_on_raw_publish_is_10165(string ttl)
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("T", allowTtl: true);
        var ex = await Assert.ThrowsAsync<JetStreamApiException>(async () =>
            await h.Js.PublishAsync("t.k", JsHarness.Bytes("x"), new NatsHeaders { { "Nats-TTL", ttl } }));
        Assert.Equal(JetStreamErrorCode.InvalidTtl, ex.ErrorCode);
    }

    [Fact]
    public async Task Ttl_on_a_stream_without_allow_msg_ttl_is_10166()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("N");
        var ex = await Assert.ThrowsAsync<JetStreamApiException>(async () =>
            await h.Js.PublishAsync("n.k", JsHarness.Bytes("x"), new NatsHeaders { { "Nats-TTL", "5" } }));
        Assert.Equal(JetStreamErrorCode.TtlDisabled, ex.ErrorCode);
    }

    [Fact]
    public async Task Marker_ttl_below_one_second_in_raw_stream_config_is_10052()
    {
        await using var h = await JsHarness.StartAsync(output);
        var ex = await Assert.ThrowsAsync<JetStreamApiException>(async () => await h.Js.CreateStreamAsync(new StreamConfig
        {
            Name = "M",
            Subjects = ["m.>"],
            AllowMsgTtl = true,
            SubjectDeleteMarkerTtl = TimeSpan.FromMilliseconds(500),
        }));
        Assert.Equal(JetStreamErrorCode.InvalidConfig, ex.ErrorCode);
        Assert.Contains("1 second", ex.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Allow_msg_ttl_cannot_be_switched_off_again_10052()
    {
        await using var h = await JsHarness.StartAsync(output);
        var info = await h.StreamAsync("X", allowTtl: true);
        var ex = await Assert.ThrowsAsync<JetStreamApiException>(async () => await h.Js.UpdateStreamAsync(info.Config with { AllowMsgTtl = false }));
        Assert.Equal(JetStreamErrorCode.InvalidConfig, ex.ErrorCode);
    }

    [Fact]
    public async Task Message_over_stream_max_msg_size_is_10054_and_connection_stays_up()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("L", maxMsgSize: 100);
        var ex = await Assert.ThrowsAsync<JetStreamApiException>(async () => await h.Js.PublishAsync("l.k", new byte[200]));
        Assert.Equal(JetStreamErrorCode.MessageTooLarge, ex.ErrorCode);
        Assert.Equal(NatsConnectionState.Connected, h.Connection.State);
        Assert.Equal(1UL, (await h.Js.PublishAsync("l.k", new byte[50])).Seq);
    }

    [Fact]
    public async Task Leader_get_of_a_missing_sequence_returns_null_not_10037()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("G");
        await h.Js.PublishAsync("g.k", JsHarness.Bytes("x"));
        Assert.Null(await h.Js.GetFromLeaderAsync("G", 99));
        Assert.Null(await h.Js.GetLastFromLeaderAsync("G", "g.none"));
    }
}

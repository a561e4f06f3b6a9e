using System.Buffers;
using CacheProvider.KeyValue.Internal;

namespace CacheProvider.KeyValue.Tests.Internal;

/// <summary>API errors arrive as NATS.Net's <see cref="NatsJSApiException"/> with the server's code and err_code, also from our own write loop.</summary>
public sealed class JetStreamErrorTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Missing_stream_is_10059_for_info_purge_and_leader_reads()
    {
        await using var h = await JsHarness.StartAsync(output);
        foreach (var call in new Func<Task>[]
        {
            async () => await h.Api.GetStreamInfoAsync("NOPE", CancellationToken.None),
            async () => await h.Api.PurgeAsync("NOPE", null, 0, 0, CancellationToken.None),
            async () => await h.Api.GetLastFromLeaderOnceAsync("NOPE", "x", CancellationToken.None),
        })
        {
            var ex = await Assert.ThrowsAsync<NatsJSApiException>(call);
            Assert.Equal(JetStreamErrorCodes.StreamNotFound, ex.Error.ErrCode);
            Assert.Equal(404, ex.Error.Code);
            Assert.False(string.IsNullOrEmpty(ex.Error.Description));
        }
    }

    [Fact]
    public async Task Expected_last_subject_sequence_mismatch_is_10071()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("W");
        await h.PublishAsync("w.k", JsHarness.Bytes("1"));
        var ex = await Assert.ThrowsAsync<NatsJSApiException>(async () =>
            await h.PublishAsync("w.k", JsHarness.Bytes("2"), new NatsHeaders { { "Nats-Expected-Last-Subject-Sequence", "0" } }));
        Assert.Equal(JetStreamErrorCodes.WrongLastSequence, ex.Error.ErrCode);
        Assert.True(ex.IsWrongLastSequence());
        Assert.Equal(400, ex.Error.Code);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("abc")]
    [InlineData("500ms")]
    public async Task Invalid_ttl_header_on_raw_publish_is_10165(string ttl)
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("T", allowTtl: true);
        var ex = await Assert.ThrowsAsync<NatsJSApiException>(async () =>
            await h.PublishAsync("t.k", JsHarness.Bytes("x"), new NatsHeaders { { "Nats-TTL", ttl } }));
        Assert.Equal(JetStreamErrorCodes.InvalidTtl, ex.Error.ErrCode);
    }

    [Fact]
    public async Task Ttl_on_a_stream_without_allow_msg_ttl_is_10166()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("N");
        var ex = await Assert.ThrowsAsync<NatsJSApiException>(async () =>
            await h.PublishAsync("n.k", JsHarness.Bytes("x"), new NatsHeaders { { "Nats-TTL", "5" } }));
        Assert.Equal(JetStreamErrorCodes.TtlDisabled, ex.Error.ErrCode);
    }

    [Fact]
    public async Task Marker_ttl_below_one_second_in_raw_stream_config_is_10052()
    {
        await using var h = await JsHarness.StartAsync(output);
        var ex = await Assert.ThrowsAsync<NatsJSApiException>(async () => await h.Js.CreateStreamAsync(new StreamConfig
        {
            Name = "M",
            Subjects = ["m.>"],
            AllowMsgTTL = true,
            SubjectDeleteMarkerTTL = TimeSpan.FromMilliseconds(500),
        }));
        Assert.Equal(JetStreamErrorCodes.InvalidConfig, ex.Error.ErrCode);
        Assert.Contains("1 second", ex.Error.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Message_over_stream_max_msg_size_is_10054_and_connection_stays_up()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("L", maxMsgSize: 100);
        var ex = await Assert.ThrowsAsync<NatsJSApiException>(async () => await h.PublishAsync("l.k", new byte[200]));
        Assert.Equal(JetStreamErrorCodes.MessageTooLarge, ex.Error.ErrCode);
        Assert.Equal(NatsConnectionState.Open, h.Connection.ConnectionState);
        Assert.Equal(1UL, await h.PublishAsync("l.k", new byte[50]));
    }

    [Fact]
    public async Task Publish_to_a_subject_no_stream_holds_is_no_responders_after_the_retry_budget()
    {
        await using var h = await JsHarness.StartAsync(output);
        var started = DateTime.UtcNow;
        await Assert.ThrowsAsync<NatsNoRespondersException>(async () => await h.Api.PublishAsync(
            "nobody.k", new ReadOnlySequence<byte>(JsHarness.Bytes("x")), null, new WriteRetry(TimeSpan.FromMilliseconds(300), false, false, false), TimeProvider.System, CancellationToken.None));
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(200), "the not-delivered write was repeated within its budget");
    }

    [Fact]
    public async Task Leader_get_of_a_missing_subject_returns_null_not_10037()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("G");
        var seq = await h.PublishAsync("g.k", JsHarness.Bytes("x"), new NatsHeaders { { "X-One", "1" } });
        Assert.Null(await h.Api.GetLastFromLeaderOnceAsync("G", "g.none", CancellationToken.None));
        var stored = await h.Api.GetLastFromLeaderOnceAsync("G", "g.k", CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(seq, stored.Sequence);
        Assert.Equal("x", JsHarness.Text(stored.Data));
        Assert.Contains("X-One: 1", System.Text.Encoding.ASCII.GetString(stored.Headers!), StringComparison.Ordinal);
        Assert.True(new DateTimeOffset(stored.CreatedTicks, TimeSpan.Zero) > DateTimeOffset.UtcNow.AddMinutes(-1));
    }
}

using CacheProvider.Nats.JetStream;

namespace CacheProvider.Nats.Tests.JetStream;

public sealed class DirectGetTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Direct_get_last_by_subject_returns_newest_message_with_stored_headers_and_metadata()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("D");
        await h.Js.PublishAsync("d.k", JsHarness.Bytes("old"));
        var ack = await h.Js.PublishAsync("d.k", JsHarness.Bytes("new"), new NatsHeaders { { "X-Tag", "t1" } });
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);

        var msg = await h.Js.DirectGetLastAsync("D", "d.k");
        Assert.NotNull(msg);
        Assert.Equal("new", JsHarness.Text(msg.Data));
        Assert.Equal(ack.Seq, msg.Sequence);
        Assert.Equal("d.k", msg.Subject);
        Assert.Equal("D", msg.Stream);
        Assert.Equal("t1", msg.Headers!["X-Tag"]);
        Assert.True(msg.Timestamp > before && msg.Timestamp < DateTimeOffset.UtcNow.AddMinutes(1), msg.Timestamp.ToString("O"));
    }

    [Fact]
    public async Task Direct_get_of_unknown_subject_or_sequence_returns_null()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("D");
        await h.Js.PublishAsync("d.k", JsHarness.Bytes("v"));
        Assert.Null(await h.Js.DirectGetLastAsync("D", "d.other"));
        Assert.Null(await h.Js.DirectGetAsync("D", 42));
    }

    [Fact]
    public async Task Direct_get_by_sequence_returns_that_message()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("D");
        var first = await h.Js.PublishAsync("d.a", JsHarness.Bytes("one"));
        await h.Js.PublishAsync("d.b", JsHarness.Bytes("two"));
        var msg = await h.Js.DirectGetAsync("D", first.Seq);
        Assert.NotNull(msg);
        Assert.Equal("one", JsHarness.Text(msg.Data));
        Assert.Equal("d.a", msg.Subject);
        Assert.Equal(first.Seq, msg.Sequence);
    }

    [Fact]
    public async Task Multi_last_batch_streams_the_newest_message_per_subject_and_ends_at_eob()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("D");
        await h.Js.PublishAsync("d.a", JsHarness.Bytes("a1"));
        await h.Js.PublishAsync("d.b", JsHarness.Bytes("b1"));
        await h.Js.PublishAsync("d.a", JsHarness.Bytes("a2"));
        await h.Js.PublishAsync("d.c.x", JsHarness.Bytes("c1"));
        using var cts = new CancellationTokenSource(JsHarness.Patience);

        var all = await h.Js.DirectGetLastBatchAsync("D", ["d.>"], cts.Token).ToListAsync(cts.Token);
        Assert.Equal(["a2", "b1", "c1"], all.OrderBy(m => m.Subject, StringComparer.Ordinal).Select(m => JsHarness.Text(m.Data)));
        Assert.All(all, m => Assert.Equal("D", m.Stream));

        var some = await h.Js.DirectGetLastBatchAsync("D", ["d.a", "d.c.*"], cts.Token).ToListAsync(cts.Token);
        Assert.Equal(["d.a", "d.c.x"], some.Select(m => m.Subject).Order(StringComparer.Ordinal));

        // Nothing matches: the batch ends at once instead of waiting for a timeout.
        Assert.Empty(await h.Js.DirectGetLastBatchAsync("D", ["d.none"], cts.Token).ToListAsync(cts.Token));
    }

    [Fact]
    public async Task Leader_reads_by_subject_and_sequence_return_headers_and_data()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("D");
        var a = await h.Js.PublishAsync("d.k", JsHarness.Bytes("v1"), new NatsHeaders { { "X-One", "1" } });
        await h.Js.PublishAsync("d.k", JsHarness.Bytes("v2"));

        var last = await h.Js.GetLastFromLeaderAsync("D", "d.k");
        Assert.NotNull(last);
        Assert.Equal("v2", JsHarness.Text(last.Data));
        Assert.Equal(a.Seq + 1, last.Sequence);
        Assert.Equal("d.k", last.Subject);

        var bySeq = await h.Js.GetFromLeaderAsync("D", a.Seq);
        Assert.NotNull(bySeq);
        Assert.Equal("v1", JsHarness.Text(bySeq.Data));
        Assert.Equal("1", bySeq.Headers!["X-One"]);
        Assert.True(bySeq.Timestamp > DateTimeOffset.UtcNow.AddMinutes(-1));
    }

    [Fact]
    public async Task Direct_get_on_a_stream_without_allow_direct_throws_no_responders()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.Js.CreateStreamAsync(new StreamConfig { Name = "ND", Subjects = ["nd.>"] });
        await h.Js.PublishAsync("nd.k", JsHarness.Bytes("v"));
        await Assert.ThrowsAsync<NatsNoRespondersException>(async () => await h.Js.DirectGetLastAsync("ND", "nd.k"));
        Assert.NotNull(await h.Js.GetLastFromLeaderAsync("ND", "nd.k"));
    }

    [Fact]
    public async Task Direct_get_status_errors_carry_an_err_code_like_other_api_errors()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("D");
        await h.Js.PublishAsync("d.k", JsHarness.Bytes("v"));
        using var cts = new CancellationTokenSource(JsHarness.Patience);

        // Sequence 0 selects nothing: the server answers "408 Empty Request" in a status header, without err_code.
        var single = await Assert.ThrowsAsync<JetStreamApiException>(async () => await h.Js.DirectGetAsync("D", 0, cts.Token));
        Assert.Equal(408, single.Code);
        Assert.Equal(JetStreamErrorCode.BadRequest, single.ErrorCode);
        Assert.Contains("Empty Request", single.Description, StringComparison.Ordinal);

        var batch = await Assert.ThrowsAsync<JetStreamApiException>(async () => await h.Js.DirectGetLastBatchAsync("D", [], cts.Token).ToListAsync(cts.Token));
        Assert.Equal(408, batch.Code);
        Assert.Equal(JetStreamErrorCode.BadRequest, batch.ErrorCode);
    }

    [Theory]
    [InlineData(408, "Malformed Request", JetStreamErrorCode.InvalidJson)]
    [InlineData(408, "Empty Request", JetStreamErrorCode.BadRequest)]
    [InlineData(408, "Bad Request", JetStreamErrorCode.BadRequest)]
    [InlineData(413, "Too Many Subjects", JetStreamErrorCode.BadRequest)]
    [InlineData(404, "Message Not Found", JetStreamErrorCode.NoMessageFound)]
    [InlineData(503, null, JetStreamErrorCode.ClusterNotAvailable)]
    public void Direct_get_status_replies_map_to_the_api_error_codes(int status, string? description, int errorCode)
    {
        var ex = JetStreamApiException.FromDirectGetStatus(status, description);
        Assert.Equal((status, errorCode), (ex.Code, ex.ErrorCode));
        Assert.False(string.IsNullOrEmpty(ex.Description));
    }
}

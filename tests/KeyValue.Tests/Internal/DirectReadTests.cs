using CacheProvider.KeyValue.Internal;

namespace CacheProvider.KeyValue.Tests.Internal;

/// <summary>Direct gets through the reply mux, batch gets, and how direct-get status replies map to API errors.</summary>
public sealed class DirectReadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Multi_last_batch_streams_the_newest_message_per_subject_and_ends_at_eob()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("D");
        await h.PublishAsync("d.a", JsHarness.Bytes("a1"));
        await h.PublishAsync("d.b", JsHarness.Bytes("b1"));
        await h.PublishAsync("d.a", JsHarness.Bytes("a2"));
        await h.PublishAsync("d.c.x", JsHarness.Bytes("c1"));
        using var cts = new CancellationTokenSource(JsHarness.Patience);

        var all = await h.Api.DirectGetLastBatchAsync("D", ["d.>"], cts.Token).ToListAsync(cts.Token);
        Assert.Equal(["a2", "b1", "c1"], all.OrderBy(m => m.Subject, StringComparer.Ordinal).Select(m => JsHarness.Text(m.Data)));
        Assert.All(all, m => Assert.Equal("D", m.Stream));
        Assert.All(all, m => Assert.True(m.Sequence > 0 && m.CreatedTicks > 0));

        var some = await h.Api.DirectGetLastBatchAsync("D", ["d.a", "d.c.*"], cts.Token).ToListAsync(cts.Token);
        Assert.Equal(["d.a", "d.c.x"], some.Select(m => m.Subject).Order(StringComparer.Ordinal));

        // Nothing matches: the batch ends at once instead of waiting for a timeout.
        Assert.Empty(await h.Api.DirectGetLastBatchAsync("D", ["d.none"], cts.Token).ToListAsync(cts.Token));
    }

    [Fact]
    public async Task Batch_status_errors_carry_an_err_code_like_other_api_errors()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("D");
        await h.PublishAsync("d.k", JsHarness.Bytes("v"));
        using var cts = new CancellationTokenSource(JsHarness.Patience);

        // No subjects: the server answers a 408 status line, without err_code.
        var batch = await Assert.ThrowsAsync<NatsJSApiException>(async () => await h.Api.DirectGetLastBatchAsync("D", [], cts.Token).ToListAsync(cts.Token));
        Assert.Equal(408, batch.Error.Code);
        Assert.Equal(JetStreamErrorCodes.BadRequest, batch.Error.ErrCode);
    }

    [Fact]
    public async Task Batch_on_a_stream_without_allow_direct_is_no_responders()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.Js.CreateStreamAsync(new StreamConfig { Name = "ND", Subjects = ["nd.>"] });
        await h.PublishAsync("nd.k", JsHarness.Bytes("v"));
        await Assert.ThrowsAsync<NatsNoRespondersException>(async () => await h.Api.DirectGetLastBatchAsync("ND", ["nd.>"], CancellationToken.None).ToListAsync());
        Assert.NotNull(await h.Api.GetLastFromLeaderOnceAsync("ND", "nd.k", CancellationToken.None));
    }

    [Fact]
    public async Task A_request_that_timed_out_never_hands_its_late_reply_to_a_newer_request()
    {
        await using var h = await JsHarness.StartAsync(output);
        var kv = new KvContext(h.Connection, new KvContextOptions { RequestTimeout = TimeSpan.FromMilliseconds(300), ReadRetryBudget = TimeSpan.Zero });
        var bucket = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "late" });
        await bucket.PutAsync("a", JsHarness.Bytes("A"));
        await bucket.PutAsync("b", JsHarness.Bytes("B"));

        // Frozen server: the read of "a" times out; its reply arrives only after the server runs again.
        h.Server.Pause();
        try
        {
            await Assert.ThrowsAsync<KvTimeoutException>(async () => await bucket.GetAsync("a"));
        }
        finally
        {
            h.Server.Resume();
        }

        // Every later read gets its own key's value, however many replies to retired requests arrive meanwhile.
        for (var i = 0; i < 200; i++)
        {
            var entry = await bucket.GetAsync("b");
            Assert.Equal("B", JsHarness.Text(entry!.Value));
        }
    }

    [Fact]
    public async Task While_the_server_is_down_reads_and_writes_time_out_on_their_own_clock_instead_of_waiting_for_the_reconnect()
    {
        await using var h = await JsHarness.StartAsync(output);
        await (await new KvContext(h.Connection).CreateBucketAsync(new KvBucketConfig { Bucket = "down" })).PutAsync("k", JsHarness.Bytes("v"));
        var kv = new KvContext(h.Connection, new KvContextOptions { RequestTimeout = TimeSpan.FromSeconds(1), ReadRetryBudget = TimeSpan.Zero, WriteRetryBudget = TimeSpan.Zero });
        var bucket = await kv.GetBucketAsync("down");
        await h.Server.StopAsync();

        // NATS.Net holds publishes until it reconnects, which here is never: the requests must end by themselves.
        // (The bound only turns a hang into a failure.)
        await Assert.ThrowsAsync<KvTimeoutException>(async () => await bucket.GetAsync("k").AsTask().WaitAsync(JsHarness.Patience));
        await Assert.ThrowsAsync<KvTimeoutException>(async () => await bucket.GetAsync("k", KvReadMode.Leader).AsTask().WaitAsync(JsHarness.Patience));
        var write = await Assert.ThrowsAnyAsync<NatsException>(async () => await bucket.PutAsync("k", JsHarness.Bytes("w")).AsTask().WaitAsync(JsHarness.Patience));
        Assert.True(write is KvTimeoutException or KvWriteOutcomeUnknownException, write.GetType().Name);

        await h.Server.StartAgainAsync();
        await KvReconnect.WaitConnectedAsync(h.Connection);
        // The write's outcome was unknown, and rightly so: NATS.Net still sends it once it reconnects.
        Assert.Contains(JsHarness.Text((await bucket.GetAsync("k", KvReadMode.Leader))!.Value), new[] { "v", "w" });
    }

    [Fact]
    public async Task Cancelled_reads_leave_the_mux_usable_and_every_reply_matched_to_its_own_request()
    {
        await using var h = await JsHarness.StartAsync(output);
        var kv = new KvContext(h.Connection);
        var bucket = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "many" });
        for (var i = 0; i < 64; i++)
        {
            await bucket.PutAsync("k" + i, JsHarness.Bytes("v" + i));
        }

        using (var cancelled = new CancellationTokenSource())
        {
            var doomed = Enumerable.Range(0, 64).Select(i => bucket.GetAsync("k" + i, cancellationToken: cancelled.Token).AsTask()).ToList();
            await cancelled.CancelAsync();
            foreach (var t in doomed)
            {
                try
                {
                    await t;
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        var reads = Enumerable.Range(0, 2000).Select(async n =>
        {
            var i = n % 64;
            var entry = await bucket.GetAsync("k" + i);
            return (i, Text: JsHarness.Text(entry!.Value));
        });
        foreach (var (i, text) in await Task.WhenAll(reads))
        {
            Assert.Equal("v" + i, text);
        }
    }

    [Theory]
    [InlineData(408, "Malformed Request", JetStreamErrorCodes.InvalidJson)]
    [InlineData(408, "Empty Request", JetStreamErrorCodes.BadRequest)]
    [InlineData(408, "Bad Request", JetStreamErrorCodes.BadRequest)]
    [InlineData(413, "Too Many Subjects", JetStreamErrorCodes.BadRequest)]
    [InlineData(404, "Message Not Found", JetStreamErrorCodes.NoMessageFound)]
    [InlineData(503, null, JetStreamErrorCodes.ClusterNotAvailable)]
    public void Direct_get_status_replies_map_to_the_api_error_codes(int status, string? description, int errorCode)
    {
        var ex = JsApi.DirectGetError(status, description);
        Assert.Equal((status, errorCode), (ex.Error.Code, ex.Error.ErrCode));
        Assert.False(string.IsNullOrEmpty(ex.Error.Description));
    }
}

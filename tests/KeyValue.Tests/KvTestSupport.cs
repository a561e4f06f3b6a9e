using System.Text;
using System.Threading.Channels;
using CacheProvider.KeyValue;

namespace CacheProvider.KeyValue.Tests;

/// <summary>Small helpers shared by the KV tests.</summary>
internal static class KvTest
{
    /// <summary>Upper bound for any single wait: long enough for a slow CI box, short enough to fail instead of hang.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static ReadOnlyMemory<byte> Bytes(string s) => Encoding.UTF8.GetBytes(s);

    public static string Text(KvEntry? e) => e is null ? "<null>" : Encoding.UTF8.GetString(e.Value.Span);

    /// <summary>Polls until <paramref name="condition"/> holds; fails the test after <see cref="Patience"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Patience);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for: {what}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>A bucket bound through a context whose clock the test moves.</summary>
    public static async Task<(KvBucket Bucket, ManualTimeProvider Clock)> BucketWithClockAsync(KvHarness h, string name)
    {
        var clock = new ManualTimeProvider();
        var kv = new KvContext(h.Connection, new KvContextOptions { TimeProvider = clock });
        return (await kv.GetBucketAsync(name), clock);
    }
}

/// <summary>The system clock plus an offset the test advances: server timestamps stay real, "now" jumps ahead.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private long _offsetTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));
}

/// <summary>Runs a watch in the background and hands its entries to the test one by one.</summary>
internal sealed class WatchCollector : IAsyncDisposable
{
    private readonly Channel<KvEntry> _entries = Channel.CreateUnbounded<KvEntry>();
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _loop;
    private int _resyncs;

    public WatchCollector(KvBucket bucket, IReadOnlyList<string> filters, KvWatchOptions? options = null)
    {
        options = (options ?? new KvWatchOptions()) with { OnResync = _ => Interlocked.Increment(ref _resyncs) };
        _loop = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in bucket.WatchAsync(filters, options, _cts.Token))
                {
                    _entries.Writer.TryWrite(e);
                }

                _entries.Writer.TryComplete();
            }
            catch (OperationCanceledException) when (_cts.IsCancellationRequested)
            {
                _entries.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                _entries.Writer.TryComplete(ex);
            }
        });
    }

    public WatchCollector(KvBucket bucket, string filter = ">", KvWatchOptions? options = null)
        : this(bucket, [filter], options)
    {
    }

    /// <summary>How often the watch reported a resync (consumer recreated).</summary>
    public int Resyncs => Volatile.Read(ref _resyncs);

    /// <summary>The next entry; fails the test if none arrives in time.</summary>
    public async Task<KvEntry> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? KvTest.Patience);
        try
        {
            return await _entries.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("The watch delivered nothing in time");
        }
    }

    public async Task<List<KvEntry>> TakeAsync(int count, TimeSpan? timeout = null)
    {
        var list = new List<KvEntry>(count);
        for (var i = 0; i < count; i++)
        {
            list.Add(await NextAsync(timeout));
        }

        return list;
    }

    /// <summary>Asserts nothing more arrives within <paramref name="quiet"/>.</summary>
    public async Task AssertQuietAsync(TimeSpan quiet)
    {
        using var cts = new CancellationTokenSource(quiet);
        try
        {
            var extra = await _entries.Reader.ReadAsync(cts.Token);
            Assert.Fail($"Unexpected watch entry {extra}");
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
        }

        _cts.Dispose();
    }
}

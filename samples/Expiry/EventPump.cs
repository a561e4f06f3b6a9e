using System.Threading.Channels;

namespace CacheProvider.Samples.Expiry;

/// <summary>
/// Runs a watch (an endless async stream) in the background and hands its items out with a per-read time limit.
/// A plain <c>await foreach</c> cannot wait "at most until this deadline" without cancelling the watch itself.
/// </summary>
internal sealed class EventPump<T> : IAsyncDisposable
    where T : class
{
    private readonly Channel<T> _channel = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stop;
    private readonly Task _pump;

    public EventPump(IAsyncEnumerable<T> source, CancellationToken cancellationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _pump = Task.Run(() => PumpAsync(source, _stop.Token), CancellationToken.None);
    }

    /// <summary>The next item, or null if none arrived within <paramref name="wait"/>. A failed watch throws here.</summary>
    public async Task<T?> ReadAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
        try
        {
            return await _channel.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (ChannelClosedException ex)
        {
            throw new DemoFailedException("the watch ended unexpectedly: " + (ex.InnerException?.Message ?? "no reason given"));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _pump.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task PumpAsync(IAsyncEnumerable<T> source, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var item in source.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                await _channel.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
            }

            _channel.Writer.TryComplete();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _channel.Writer.TryComplete();
        }
        catch (Exception ex)
        {
            // Handed to the reader, which reports it; nothing is lost silently.
            _channel.Writer.TryComplete(ex);
        }
    }
}

using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane;

namespace CacheProvider.FusionCache;

/// <summary>
/// A FusionCache backplane on NATS core pub/sub. Each cache publishes its <see cref="BackplaneMessage"/>s (FusionCache's
/// own binary format, <see cref="BackplaneMessage.ToByteArray"/>) on <c>{SubjectPrefix}.{channel name}</c> and
/// subscribes to it: messages of other cache instances reach FusionCache, which evicts (or refreshes) its L1; the cache's
/// own messages are dropped here. Up to <see cref="NatsBackplaneOptions.MaxConcurrentMessages"/> messages are handled at
/// once, those for one cache key one after the other in delivery order. Delivery is at most once, like Redis pub/sub: while the connection is down publishing
/// throws, FusionCache's auto-recovery keeps the messages and replays them after <see cref="BackplaneConnectionInfo.IsReconnection"/>,
/// which this backplane reports whenever the NATS.Net connection comes back (NATS.Net re-subscribes by itself).
/// The connection is shared and never disposed here.
/// </summary>
public sealed partial class NatsBackplane : IFusionCacheBackplane, IAsyncDisposable
{
    private static readonly NatsRawSerializer<byte[]> Raw = NatsRawSerializer<byte[]>.Default;

    // Per lane: when FusionCache falls this far behind, the read loop waits and NATS.Net's own buffer takes over.
    private const int LaneCapacity = 1024;

    private readonly INatsConnection _connection;
    private readonly NatsBackplaneOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private BackplaneSubscriptionOptions? _subscription;
    private string? _subject;
    private INatsSub<byte[]>? _sub;
    private CancellationTokenSource? _cts;
    private Task? _readLoop;
    private Task? _retryLoop;
    private Channel<BackplaneMessage>[] _lanes = [];
    private Task[] _laneLoops = [];
    private int _disconnected;
    private bool _eventsAttached;

    /// <summary>Creates a backplane on <paramref name="connection"/>; FusionCache subscribes it when the cache is built.</summary>
    /// <exception cref="ArgumentException">Invalid <paramref name="options"/>.</exception>
    public NatsBackplane(INatsConnection connection, NatsBackplaneOptions? options = null, ILogger<NatsBackplane>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _options = options ?? new NatsBackplaneOptions();
        _options.Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The subject this backplane publishes and listens on; <see langword="null"/> before it is subscribed.</summary>
    public string? Subject => _subject;

    /// <summary><see langword="true"/> once the NATS subscription is in place (it may be waiting for the server at start-up).</summary>
    public bool IsSubscribed => Volatile.Read(ref _sub) is not null;

    /// <inheritdoc/>
    public void Subscribe(BackplaneSubscriptionOptions options) => SubscribeAsync(options).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public async ValueTask SubscribeAsync(BackplaneSubscriptionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.ChannelName))
        {
            throw new ArgumentException("BackplaneSubscriptionOptions.ChannelName is required", nameof(options));
        }

        if (options.IncomingMessageHandlerAsync is null || options.ConnectHandlerAsync is null)
        {
            throw new ArgumentException("BackplaneSubscriptionOptions needs IncomingMessageHandlerAsync and ConnectHandlerAsync", nameof(options));
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_subscription is not null)
            {
                throw new InvalidOperationException("This backplane is already subscribed; use one backplane instance per cache");
            }

            _subscription = options;
            _subject = NatsBackplaneSubjects.For(_options.SubjectPrefix, options.ChannelName);
            _cts = new CancellationTokenSource();
            Interlocked.Exchange(ref _disconnected, 0);
            StartLanes(_cts.Token);
            AttachEvents();
        }
        finally
        {
            _gate.Release();
        }

        try
        {
            await SubscribeCoreAsync(_cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // NATS is not reachable yet: the cache works without backplane; once subscribed, FusionCache hears of a
            // re-connection and its auto-recovery publishes what it kept meanwhile.
            LogSubscribeFailed(_logger, ex, options.CacheName, _subject, _options.SubscribeRetryDelay);
            _retryLoop = Task.Run(() => RetrySubscribeAsync(_cts.Token), CancellationToken.None);
            return;
        }

        await NotifyConnectAsync(isReconnection: false).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Unsubscribe() => UnsubscribeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public async ValueTask UnsubscribeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_subscription is null)
            {
                return;
            }

            DetachEvents();
            var cts = _cts;
            await cts!.CancelAsync().ConfigureAwait(false);
            var sub = Interlocked.Exchange(ref _sub, null);
            if (sub is not null)
            {
                try
                {
                    await sub.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is NatsException or ObjectDisposedException)
                {
                    LogUnsubscribeFailed(_logger, ex, _subscription.CacheName, _subject);
                }
            }

            foreach (var task in _laneLoops.Append(_readLoop).Append(_retryLoop))
            {
                if (task is not null)
                {
                    await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }

            cts.Dispose();
            _cts = null;
            _readLoop = null;
            _retryLoop = null;
            _lanes = [];
            _laneLoops = [];
            _subscription = null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public void Publish(BackplaneMessage message, FusionCacheEntryOptions options, CancellationToken token = default) =>
        PublishAsync(message, options, token).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    /// <exception cref="FusionCacheBackplaneException">The connection is down (FusionCache's auto-recovery retries later).</exception>
    public async ValueTask PublishAsync(BackplaneMessage message, FusionCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var subject = _subject ?? throw new FusionCacheBackplaneException("The NATS backplane is not subscribed yet (FusionCache subscribes it in the background unless WaitForInitialBackplaneSubscribe is set)");
        var payload = BackplaneMessage.ToByteArray(message);
        token.ThrowIfCancellationRequested();
        if (_connection.ConnectionState == NatsConnectionState.Closed)
        {
            await _connection.ConnectAsync().ConfigureAwait(false);
        }

        // NATS.Net would buffer a publish while reconnecting and lose it if the buffer is dropped; failing lets
        // FusionCache's auto-recovery own the message, as it does for Redis.
        if (_connection.ConnectionState != NatsConnectionState.Open)
        {
            throw new FusionCacheBackplaneException($"NATS connection is {_connection.ConnectionState}: backplane message for '{message.CacheKey}' not sent");
        }

        await _connection.PublishAsync(subject, payload, serializer: Raw, cancellationToken: token).ConfigureAwait(false);
    }

    /// <summary>Unsubscribes (the shared connection stays open).</summary>
    public async ValueTask DisposeAsync()
    {
        await UnsubscribeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    private async Task SubscribeCoreAsync(CancellationToken cancellationToken)
    {
        if (_connection.ConnectionState == NatsConnectionState.Closed)
        {
            await _connection.ConnectAsync().ConfigureAwait(false);
        }

        var sub = await _connection.SubscribeCoreAsync(_subject!, serializer: Raw, cancellationToken: cancellationToken).ConfigureAwait(false);

        // The server handles SUB before the PING: once PONG is back, other nodes' publishes reach this subscription.
        try
        {
            await _connection.PingAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await sub.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        Volatile.Write(ref _sub, sub);
        _readLoop = Task.Run(() => ReadAsync(sub, cancellationToken), CancellationToken.None);
        if (cancellationToken.IsCancellationRequested && Interlocked.Exchange(ref _sub, null) is { } late)
        {
            // Unsubscribed meanwhile (the retry loop runs outside the gate): nobody else will dispose it.
            await late.DisposeAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private async Task RetrySubscribeAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.SubscribeRetryDelay, cancellationToken).ConfigureAwait(false);
                await SubscribeCoreAsync(cancellationToken).ConfigureAwait(false);
                Interlocked.Exchange(ref _disconnected, 0);
                await NotifyConnectAsync(isReconnection: true).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogSubscribeFailed(_logger, ex, _subscription?.CacheName, _subject, _options.SubscribeRetryDelay);
            }
        }
    }

    /// <summary>
    /// One sequential worker per lane: messages for one cache key always take the same lane, so FusionCache sees them
    /// in the order NATS delivered them, while a slow one (an EntrySet reads L2) does not hold up other keys.
    /// </summary>
    private void StartLanes(CancellationToken cancellationToken)
    {
        var count = _options.MaxConcurrentMessages;
        _lanes = new Channel<BackplaneMessage>[count];
        _laneLoops = new Task[count];
        for (var i = 0; i < count; i++)
        {
            var lane = Channel.CreateBounded<BackplaneMessage>(new BoundedChannelOptions(LaneCapacity)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
            _lanes[i] = lane;
            _laneLoops[i] = Task.Run(() => RunLaneAsync(lane.Reader, cancellationToken), CancellationToken.None);
        }
    }

    private async Task ReadAsync(INatsSub<byte[]> sub, CancellationToken cancellationToken)
    {
        try
        {
            var lanes = _lanes;
            await foreach (var msg in sub.Msgs.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (Decode(msg.Data) is { } message)
                {
                    var lane = lanes[(StringComparer.Ordinal.GetHashCode(message.CacheKey ?? string.Empty) & int.MaxValue) % lanes.Length];
                    await lane.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunLaneAsync(ChannelReader<BackplaneMessage> reader, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await DeliverAsync(message).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The message in <paramref name="payload"/>, or <see langword="null"/> when it is this cache's own or malformed.</summary>
    private BackplaneMessage? Decode(byte[]? payload)
    {
        var subscription = _subscription;
        if (subscription is null)
        {
            return null;
        }

        BackplaneMessage message;
        try
        {
            message = BackplaneMessage.FromByteArray(payload);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException or IndexOutOfRangeException)
        {
            LogMalformed(_logger, ex, subscription.CacheName, _subject, payload?.Length ?? 0);
            return null;
        }

        return message.SourceId == subscription.CacheInstanceId ? null : message;
    }

    private async ValueTask DeliverAsync(BackplaneMessage message)
    {
        var subscription = _subscription;
        if (subscription?.IncomingMessageHandlerAsync is not { } handler)
        {
            return;
        }

        try
        {
            await handler(message).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogHandlerFailed(_logger, ex, subscription.CacheName, message.CacheKey);
        }
    }

    private void AttachEvents()
    {
        if (_eventsAttached)
        {
            return;
        }

        _connection.ConnectionDisconnected += OnDisconnectedAsync;
        _connection.ConnectionOpened += OnOpenedAsync;
        _connection.MessageDropped += OnMessageDroppedAsync;
        _eventsAttached = true;
    }

    private void DetachEvents()
    {
        if (!_eventsAttached)
        {
            return;
        }

        _connection.ConnectionDisconnected -= OnDisconnectedAsync;
        _connection.ConnectionOpened -= OnOpenedAsync;
        _connection.MessageDropped -= OnMessageDroppedAsync;
        _eventsAttached = false;
    }

    private ValueTask OnDisconnectedAsync(object? sender, NatsEventArgs args)
    {
        Interlocked.Exchange(ref _disconnected, 1);
        return ValueTask.CompletedTask;
    }

    private async ValueTask OnOpenedAsync(object? sender, NatsEventArgs args)
    {
        // NATS.Net re-sent the SUB before opening; tell FusionCache so that its auto-recovery replays what failed.
        if (Volatile.Read(ref _sub) is not null && Interlocked.Exchange(ref _disconnected, 0) == 1)
        {
            await NotifyConnectAsync(isReconnection: true).ConfigureAwait(false);
        }
    }

    private ValueTask OnMessageDroppedAsync(object? sender, NatsMessageDroppedEventArgs args)
    {
        if (ReferenceEquals(args.Subscription, Volatile.Read(ref _sub)))
        {
            LogDropped(_logger, _subscription?.CacheName, _subject, args.Pending);
        }

        return ValueTask.CompletedTask;
    }

    private async ValueTask NotifyConnectAsync(bool isReconnection)
    {
        var subscription = _subscription;
        if (subscription?.ConnectHandlerAsync is not { } handler)
        {
            return;
        }

        LogConnected(_logger, subscription.CacheName, _subject, isReconnection);
        try
        {
            await handler(new BackplaneConnectionInfo(isReconnection)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogHandlerFailed(_logger, ex, subscription.CacheName, null);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "FusionCache {CacheName}: NATS backplane on {Subject} {IsReconnection}")]
    private static partial void LogConnected(ILogger logger, string? cacheName, string? subject, bool isReconnection);

    [LoggerMessage(2, LogLevel.Warning, "FusionCache {CacheName}: cannot subscribe the NATS backplane on {Subject} yet, retrying every {Delay}")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception exception, string? cacheName, string? subject, TimeSpan delay);

    [LoggerMessage(3, LogLevel.Warning, "FusionCache {CacheName}: malformed backplane message ({Length} bytes) on {Subject} ignored")]
    private static partial void LogMalformed(ILogger logger, Exception exception, string? cacheName, string? subject, int length);

    [LoggerMessage(4, LogLevel.Error, "FusionCache {CacheName}: backplane handler failed for key {CacheKey}")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string? cacheName, string? cacheKey);

    [LoggerMessage(5, LogLevel.Warning, "FusionCache {CacheName}: NATS.Net dropped a backplane message on {Subject} ({Pending} pending): some L1 entries may stay stale until they expire")]
    private static partial void LogDropped(ILogger logger, string? cacheName, string? subject, int pending);

    [LoggerMessage(6, LogLevel.Debug, "FusionCache {CacheName}: unsubscribing the NATS backplane on {Subject} failed")]
    private static partial void LogUnsubscribeFailed(ILogger logger, Exception exception, string? cacheName, string? subject);
}

using NATS.Client.Core;
using NATS.Client.JetStream;

namespace CacheProvider.KeyValue.Internal;

internal static class ErrCodes
{
    public static bool IsWrongLastSequence(this NatsJSApiException ex) =>
        ex.Error.ErrCode is JetStreamErrorCodes.WrongLastSequence or JetStreamErrorCodes.WrongLastSubjectSequence;
}

/// <summary>
/// Which failures of a JetStream request may be repeated, for the seconds a replicated stream has no leader (elections
/// after a node loss): nobody answers (timeout), nobody listens (no responders) or "temporarily unavailable" (503).
/// </summary>
internal static class JetStreamRetry
{
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMilliseconds(500);

    /// <summary>The request certainly reached no stream: no subscriber, or the server refused it as unavailable.</summary>
    public static bool IsNotDelivered(Exception ex) =>
        ex is NatsNoRespondersException || ex is NatsJSApiException { Error.Code: 503 };

    /// <summary>The request may or may not have been processed: no reply arrived, or a message id is still in process.</summary>
    public static bool IsNoReply(Exception ex) =>
        ex is KvTimeoutException or KvConnectionLostException or KvLeaderChangedException or NatsJSApiNoResponseException or NatsNoReplyException or NatsTimeoutException ||
        ex is NatsJSApiException { Error.ErrCode: JetStreamErrorCodes.DuplicateMsgIdInProcess };

    /// <summary>
    /// Runs an idempotent <paramref name="read"/>, repeating it after <see cref="IsNotDelivered"/> or
    /// <see cref="IsNoReply"/> failures while <paramref name="budget"/> lasts; the last failure is rethrown.
    /// </summary>
    public static async ValueTask<T> ReadAsync<T>(Func<CancellationToken, ValueTask<T>> read, TimeSpan budget, TimeProvider time, CancellationToken cancellationToken)
    {
        if (budget <= TimeSpan.Zero)
        {
            return await read(cancellationToken).ConfigureAwait(false);
        }

        var start = time.GetTimestamp();
        var backoff = FirstBackoff;
        while (true)
        {
            try
            {
                return await read(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when ((IsNotDelivered(ex) || IsNoReply(ex)) && time.GetElapsedTime(start) < budget)
            {
            }

            var remaining = budget - time.GetElapsedTime(start);
            await Task.Delay(remaining <= TimeSpan.Zero ? TimeSpan.Zero : backoff < remaining ? backoff : remaining, time, cancellationToken).ConfigureAwait(false);
            backoff = Next(backoff);
        }
    }

    /// <summary>Exponential backoff step, capped.</summary>
    public static TimeSpan Next(TimeSpan backoff) => backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;
}

/// <summary>What a write may repeat: <see cref="Budget"/> bounds all repeats.</summary>
/// <param name="Budget">How long repeats may go on.</param>
/// <param name="Repeatable">A repeat after an unknown outcome cannot store twice (message id or expected last sequence).</param>
/// <param name="Idempotent">The write carries a message id: the stream answers a repeat with the stored copy's ack.</param>
/// <param name="ReportUnknown">An unacknowledged write ends in <see cref="KvWriteOutcomeUnknownException"/> rather than the raw timeout.</param>
internal readonly record struct WriteRetry(TimeSpan Budget, bool Repeatable, bool Idempotent, bool ReportUnknown);

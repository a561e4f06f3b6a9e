using Orleans;

namespace CacheProvider.Grains.Caching;

// Grain code continues on the activation's scheduler: no ConfigureAwait(false).
#pragma warning disable CA2007

/// <summary>
/// GetOrCreate across the cluster: the first caller for a missing key gets a lease and runs the factory; the others
/// wait on this activation until the value lands, the lease is abandoned, or the holder goes silent.
/// </summary>
internal sealed partial class CacheGrain
{
    public async Task<CacheLookup> GetOrLease(TimeSpan leaseWait)
    {
        while (true)
        {
            var value = await Get();
            if (value is not null)
            {
                return new CacheLookup { Value = value };
            }

            if (_lease is null)
            {
                var lease = Guid.NewGuid();
                _lease = lease;
                _leaseEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return new CacheLookup { Lease = lease };
            }

            var held = _lease;
            var ended = _leaseEnded!.Task;
            try
            {
                await ended.WaitAsync(leaseWait);
            }
            catch (TimeoutException)
            {
                // The holder went silent (crashed client): the next caller may try.
                if (_lease == held)
                {
                    EndLease();
                }
            }
        }
    }

    public async Task CompleteLease(Guid lease, byte[] value, CacheEntryExpiration expiration)
    {
        try
        {
            await Set(value, expiration);
        }
        finally
        {
            if (_lease == lease)
            {
                EndLease();
            }
        }
    }

    public Task AbandonLease(Guid lease)
    {
        if (_lease == lease)
        {
            EndLease();
        }

        return Task.CompletedTask;
    }

    private void EndLease()
    {
        _lease = null;
        var ended = _leaseEnded;
        _leaseEnded = null;
        ended?.TrySetResult();
        if (_deactivateWhenLeaseEnds)
        {
            _deactivateWhenLeaseEnds = false;
            if (_entry is null)
            {
                this.DeactivateOnIdle();
            }
        }
    }
}

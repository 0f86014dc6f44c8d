using SecretsCache.Redis.Connection;

namespace SecretsCache.Redis.Lease;

/// <summary>
/// A lease holder's "still fetching" (<see cref="LeaseOutcome.Working"/>), sent every half <see cref="RedisL2Options.LeaseWaitTimeout"/>
/// for as long as its fetch lasts. A holder that outlasts the wait is most often queued in the fleet's rate limit, which
/// serves requests in the order they reach Redis: a waiter that gave up and fetched would queue behind it, and add one more
/// request per instance to a quota as small as Parameter Store's 40 a second. A dead holder says nothing, so its waiters
/// still stop after one bound. Dispose when the fetch ends. Never throws.
/// </summary>
internal sealed class HolderProgress : IDisposable
{
    private readonly LeaseResults _results;
    private readonly byte[][] _hashes;
    private readonly ITimer? _timer;
    private int _sending;

    public HolderProgress(RedisConnection connection, LeaseResults results, IEnumerable<LeaseHandle> handles)
    {
        _results = results;
        _hashes = [.. handles.Select(h => h.Hash)];
        var period = connection.Options.LeaseWaitTimeout / 2;
        if (period > TimeSpan.Zero && _hashes.Length > 0)
        {
            _timer = connection.Time.CreateTimer(static state => ((HolderProgress)state!).Send(), this, period, period);
        }
    }

    public void Dispose() => _timer?.Dispose();

    private void Send()
    {
        if (Interlocked.Exchange(ref _sending, 1) == 0)
        {
            _ = SendAsync(); // one at a time: a Redis slower than the period skips a beat rather than piling up
        }
    }

    private async Task SendAsync()
    {
        try
        {
            await _results.PublishManyAsync([.. _hashes.Select(h => (h, LeaseOutcome.Working))], CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _sending, 0);
        }
    }
}

namespace SecretsCache.Resilience;

/// <summary>
/// The retry capacity of one service in one region, kept as AWS SDKs' standard retry mode keeps it: a bucket of
/// <see cref="Capacity"/> tokens. A retry takes <see cref="ThrottlingCost"/> after throttling, <see cref="TransientCost"/>
/// after any other transient error, and is not made when the bucket cannot pay: the error surfaces at once. A call that
/// succeeds gives back what its last retry took, or one token when it needed none. So in a long outage or throttling
/// episode retries stop instead of multiplying the load, and successes earn them back. Thread-safe and lock-free.
/// </summary>
internal sealed class RetryQuota
{
    public const int Capacity = 500;

    /// <summary>Throttling is cheap to retry: the service said "later", and the backoff is long.</summary>
    public const int ThrottlingCost = 5;

    public const int TransientCost = 14;

    private const int NoRetryRefund = 1;

    private int _available = Capacity;

    public int Available => Volatile.Read(ref _available);

    public static int CostOf(Exception error) => error is SecretThrottledException ? ThrottlingCost : TransientCost;

    public bool TryAcquire(int cost)
    {
        while (true)
        {
            var available = Volatile.Read(ref _available);
            if (available < cost)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _available, available - cost, available) == available)
            {
                return true;
            }
        }
    }

    /// <summary>Gives back <paramref name="cost"/> tokens (one when it is zero: a success that needed no retry), up to the capacity.</summary>
    public void Release(int cost)
    {
        var amount = cost > 0 ? cost : NoRetryRefund;
        while (true)
        {
            var available = Volatile.Read(ref _available);
            var refilled = Math.Min(Capacity, available + amount);
            if (refilled == available || Interlocked.CompareExchange(ref _available, refilled, available) == available)
            {
                return;
            }
        }
    }
}

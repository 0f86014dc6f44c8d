using System.Threading.RateLimiting;

namespace SecretsCache.Resilience;

/// <summary>
/// A token bucket for one service (burst: <see cref="RateLimitOptions.BurstSeconds"/> worth, at least one request). Over the
/// limit a request waits in a bounded queue or fails fast; it is never dropped silently. The bucket never grants more than the
/// configured rate: the refill step is rounded down, never up.
/// </summary>
/// <remarks>
/// A rate whose burst is less than one request (a fleet instance's share of a small quota, such as 40/s over 500 instances)
/// is a share of something other processes use too: such a bucket starts empty and gets its first token at a random moment
/// within one refill period, so a fleet that starts together spreads its first requests over that period instead of sending
/// one per instance in the same second. Every later token follows at the rate, from that random phase. The start is timed
/// on the provider's <see cref="TimeProvider"/>; the refills run on System.Threading.RateLimiting's own monotonic clock.
/// </remarks>
internal sealed class ClientRateLimiter : IDisposable
{
    private readonly RateLimitBehavior _behavior;
    private readonly string _service;
    private readonly TokenBucketRateLimiterOptions? _bucketOptions;
    private readonly Task<TokenBucketRateLimiter>? _starting;
    private readonly CancellationTokenSource? _disposing;
    private volatile TokenBucketRateLimiter? _bucket;

    public ClientRateLimiter(string service, double requestsPerSecond, RateLimitOptions options, TimeProvider? time = null, Random? random = null)
    {
        _service = service;
        _behavior = options.Behavior;
        RequestsPerSecond = Math.Max(0, requestsPerSecond);
        if (requestsPerSecond <= 0)
        {
            return;
        }

        var (period, tokensPerPeriod) = Replenishment(requestsPerSecond);
        var burst = Math.Floor((requestsPerSecond * options.BurstSeconds) + 1e-9); // 5,500 / 550 x 0.1 is one request, not 0.99999...
        _bucketOptions = new TokenBucketRateLimiterOptions
        {
            TokenLimit = (int)Math.Max(tokensPerPeriod, Math.Min(burst, int.MaxValue)),
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = period,
            AutoReplenishment = true,
            QueueLimit = options.Behavior == RateLimitBehavior.Wait ? options.QueueLimit : 0,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        };
        if (burst >= 1)
        {
            _bucket = new TokenBucketRateLimiter(_bucketOptions);
            return;
        }

        // The bucket (and so its refill timer) is created at the random phase: created now, every instance of a fleet that
        // starts together would refill in the same millisecond, forever.
        StartDelay = period * (random ?? Random.Shared).NextDouble();
        _disposing = new CancellationTokenSource();
        _starting = StartAsync(StartDelay, time ?? TimeProvider.System, _disposing.Token);
    }

    /// <summary>The configured rate (0: unlimited).</summary>
    public double RequestsPerSecond { get; }

    /// <summary>Whether the bucket started empty, at a random phase (its burst is below one request).</summary>
    public bool Staggered => _starting is not null;

    /// <summary>How long after construction the first token comes (zero unless the burst is below one request).</summary>
    public TimeSpan StartDelay { get; }

    /// <summary>The refill period (the bucket's timer interval).</summary>
    public TimeSpan Period => _bucketOptions?.ReplenishmentPeriod ?? TimeSpan.Zero;

    /// <summary>The bucket's size in requests (0 when unlimited).</summary>
    public int TokenLimit => _bucketOptions?.TokenLimit ?? 0;

    /// <summary>Whether a request would be granted now without waiting (always when unlimited). A hint: another caller may take the token first.</summary>
    public bool HasTokenNow => _bucketOptions is null || _bucket?.GetStatistics()?.CurrentAvailablePermits > 0;

    public async ValueTask AcquireAsync(string? reference, CancellationToken cancellationToken)
    {
        if (_bucketOptions is null)
        {
            return;
        }

        var bucket = _bucket;
        if (bucket is null)
        {
            if (_behavior == RateLimitBehavior.FailFast)
            {
                throw Exhausted(reference);
            }

            bucket = await _starting!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        using var lease = _behavior == RateLimitBehavior.FailFast
            ? bucket.AttemptAcquire(1)
            : await bucket.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            throw Exhausted(reference);
        }
    }

    public void Dispose()
    {
        if (_disposing is { IsCancellationRequested: false } disposing)
        {
            disposing.Cancel();
            disposing.Dispose();
        }

        _bucket?.Dispose();
    }

    /// <summary>
    /// The refill step: about 20 ms worth of tokens (at least one), every whole number of milliseconds rounded up, so timer
    /// granularity never lets the real rate exceed the configured one (150/s is 3 tokens every 20 ms, 11/s 1 every 91 ms).
    /// </summary>
    internal static (TimeSpan Period, int TokensPerPeriod) Replenishment(double requestsPerSecond)
    {
        var tokens = (int)Math.Clamp(Math.Round(requestsPerSecond * 0.02), 1, int.MaxValue);
        var milliseconds = Math.Ceiling(1_000 * tokens / requestsPerSecond);
        return (TimeSpan.FromMilliseconds(Math.Min(milliseconds, TimeSpan.FromDays(1).TotalMilliseconds)), tokens);
    }

    private async Task<TokenBucketRateLimiter> StartAsync(TimeSpan delay, TimeProvider time, CancellationToken disposing)
    {
        await Task.Delay(delay, time, disposing).ConfigureAwait(false);
        var bucket = new TokenBucketRateLimiter(_bucketOptions!);
        _bucket = bucket;
        if (disposing.IsCancellationRequested)
        {
            bucket.Dispose();
        }

        return bucket;
    }

    private SecretThrottledException Exhausted(string? reference) => new(
        $"The client-side rate limit for AWS {_service} is exhausted ({(_behavior == RateLimitBehavior.FailFast ? "fail-fast" : "wait queue full")}); see SecretsCacheOptions.RateLimits.",
        reference,
        RetryPipelineFactory.ClientRateLimited);
}

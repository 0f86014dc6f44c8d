using System.Threading.RateLimiting;

namespace SecretsCache.Resilience;

/// <summary>
/// A token bucket for one service (burst: <see cref="RateLimitOptions.BurstSeconds"/> worth). Over the limit a request waits in a bounded queue or fails fast;
/// it is never dropped silently. System.Threading.RateLimiting refills on its own monotonic clock, not the provider's TimeProvider.
/// </summary>
internal sealed class ClientRateLimiter : IDisposable
{
    private readonly TokenBucketRateLimiter? _bucket;
    private readonly RateLimitBehavior _behavior;
    private readonly string _service;

    public ClientRateLimiter(string service, double requestsPerSecond, RateLimitOptions options)
    {
        _service = service;
        _behavior = options.Behavior;
        if (requestsPerSecond <= 0)
        {
            return;
        }

        // Refill in small steps so waiting requests are released smoothly, not in one burst a second.
        var (period, tokensPerPeriod) = requestsPerSecond >= 100
            ? (TimeSpan.FromMilliseconds(10), Math.Max(1, (int)Math.Round(requestsPerSecond / 100)))
            : (TimeSpan.FromSeconds(1 / requestsPerSecond), 1);
        _bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(tokensPerPeriod, (int)Math.Ceiling(requestsPerSecond * options.BurstSeconds)),
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = period,
            AutoReplenishment = true,
            QueueLimit = options.Behavior == RateLimitBehavior.Wait ? options.QueueLimit : 0,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    public async ValueTask AcquireAsync(string? reference, CancellationToken cancellationToken)
    {
        if (_bucket is null)
        {
            return;
        }

        using var lease = _behavior == RateLimitBehavior.FailFast
            ? _bucket.AttemptAcquire(1)
            : await _bucket.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            throw new SecretThrottledException(
                $"The client-side rate limit for AWS {_service} is exhausted ({(_behavior == RateLimitBehavior.FailFast ? "fail-fast" : "wait queue full")}); see SecretsCacheOptions.RateLimits.",
                reference,
                RetryPipelineFactory.ClientRateLimited);
        }
    }

    public void Dispose()
    {
        _bucket?.Dispose();
    }
}

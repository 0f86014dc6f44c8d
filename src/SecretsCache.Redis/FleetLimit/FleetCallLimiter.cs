using SecretsCache.Redis.Composition;
using SecretsCache.Resilience;

namespace SecretsCache.Redis.FleetLimit;

/// <summary>
/// The limiter the call policy uses for one budget in place of its local bucket (<c>ReplaceLimiter</c>): a token of the
/// fleet-wide bucket in Redis, shared by every instance; this instance's static share while the level is not up yet (the
/// level falls back to its own static share whenever Redis cannot answer). Every request sent to AWS passes here, retries
/// included.
/// </summary>
internal sealed class FleetCallLimiter(RedisComposition fleet, FleetQuota quota, double fleetRate, ClientRateLimiter staticShare) : ICallLimiter, IDisposable
{
    /// <summary>
    /// The fleet's rate (what one instance may get when the others are idle) while Redis answers; while the level falls back,
    /// the rate of the share it waits in, which a re-cut for the observed fleet may have made far lower than the fleet's.
    /// </summary>
    public double RequestsPerSecond => Level() switch
    {
        { FallingBack: true } limiter => limiter.FallbackRate,
        null when fleet.Level is null => staticShare.RequestsPerSecond,
        _ => fleetRate,
    };

    /// <summary>
    /// The state of the bucket a request would take from now: the fleet's (as the last round trip found it), or while the
    /// level falls back the share the level waits in (after a re-cut, not the provider's share it replaced, which sits full).
    /// </summary>
    public bool HasTokenNow => Level() switch
    {
        { FallingBack: true } limiter => limiter.FallbackHasTokenNow,
        { } limiter => !limiter.LastFoundEmpty,
        null => fleet.Level is null ? staticShare.HasTokenNow : true,
    };

    private FleetQuotaLimiter? Level() => fleet.Level?.FleetLimiter[quota];

    public async ValueTask AcquireAsync(string? reference, CancellationToken cancellationToken)
    {
        if (fleet.Level is { } level)
        {
            var permit = await level.FleetLimiter.AcquireAsync(quota, cancellationToken).ConfigureAwait(false);
            if (permit.Source == FleetPermitSource.QueuedTooLong)
            {
                // Not retried (the code of a client-side limit that refuses): the warm-up reads the chunk one by one instead.
                throw new SecretThrottledException(
                    "The fleet's BatchGetSecretValue queue is longer than a warm-up should wait: the batch was not sent.", reference, RetryPipelineFactory.ClientRateLimited);
            }

            if (!permit.IsAcquired)
            {
                throw Throttled(reference);
            }

            return;
        }

        try
        {
            await staticShare.AcquireAsync(reference, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretThrottledException)
        {
            throw Throttled(reference); // its queue is full
        }
    }

    public void Dispose() => staticShare.Dispose();

    private static SecretThrottledException Throttled(string? reference) =>
        new("The fleet-wide rate limit's queue is full: the request was not sent.", reference, "FleetRateLimitQueueFull");
}

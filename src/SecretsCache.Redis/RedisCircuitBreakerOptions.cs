namespace SecretsCache.Redis;

/// <summary>
/// The circuit breakers around Redis calls, two per connection with these settings: one for entries, leases and messages,
/// one for the fleet limit. Each opens when <see cref="FailureRatio"/> of at least <see cref="MinimumThroughput"/> of its
/// calls within <see cref="SamplingDuration"/> failed or timed out, and then skips Redis for <see cref="FirstBreakDuration"/>,
/// doubled after each trial call that fails, up to <see cref="BreakDuration"/>: reads go straight to AWS, or the fleet
/// limit falls back to the static share.
/// </summary>
public sealed class RedisCircuitBreakerOptions
{
    /// <summary>The share of failed calls that opens the breaker (above 0, at most 1). Default 0.5.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>
    /// The fewest calls in a sampling window before the breaker may open (at least 2). Default 20: an open breaker sends every
    /// key of the instance to AWS, so a few timeouts in a burst (a warm-up makes a handful of calls, each for all its keys)
    /// must not open it; a Redis that is down is skipped without the breaker.
    /// </summary>
    public int MinimumThroughput { get; set; } = 20;

    /// <summary>The window over which failures are counted (at least 0.5 seconds). Default 10 seconds.</summary>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest an open breaker skips Redis before one call tries it again (at least 0.5 seconds). Default 5 seconds.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the breaker skips Redis when it opens after having been closed (at least 0.1 seconds; one longer than
    /// <see cref="BreakDuration"/> is <see cref="BreakDuration"/>); each failed trial call doubles it, up to <see cref="BreakDuration"/>. A short first break
    /// lets a burst of timeouts (a deploy, a cold start) cost seconds less, and a Redis that stays down is still tried
    /// rarely. Default 1 second.
    /// </summary>
    public TimeSpan FirstBreakDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The break after <paramref name="failedTrials"/> failed trial calls in a row.</summary>
    internal TimeSpan BreakAfter(int failedTrials)
    {
        var ticks = Math.Min(FirstBreakDuration.Ticks, BreakDuration.Ticks);
        for (var i = 0; i < failedTrials && ticks < BreakDuration.Ticks; i++)
        {
            ticks *= 2;
        }

        return TimeSpan.FromTicks(Math.Min(ticks, BreakDuration.Ticks));
    }

    internal void Validate(List<string> errors)
    {
        if (double.IsNaN(FailureRatio) || FailureRatio is <= 0 or > 1)
        {
            errors.Add("CircuitBreaker.FailureRatio must be above 0 and at most 1.");
        }

        if (MinimumThroughput < 2)
        {
            errors.Add("CircuitBreaker.MinimumThroughput must be at least 2.");
        }

        RedisL2Options.RequireBetween(errors, SamplingDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromDays(1), "CircuitBreaker.SamplingDuration");
        RedisL2Options.RequireBetween(errors, BreakDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromDays(1), "CircuitBreaker.BreakDuration");
        RedisL2Options.RequireBetween(errors, FirstBreakDuration, TimeSpan.FromMilliseconds(100), TimeSpan.FromDays(1), "CircuitBreaker.FirstBreakDuration");
    }
}

namespace SecretsCache.Resilience;

/// <summary>
/// What the call policy asks of the limiter for one <see cref="CallBudget"/>: a token per request sent to AWS. The local
/// <see cref="ClientRateLimiter"/> is one; a package built on the core replaces it through
/// <see cref="Composition.SecretsCacheRuntimeHooks.ReplaceLimiter"/> (a fleet-wide limiter, falling back to the local one).
/// </summary>
internal interface ICallLimiter
{
    /// <summary>The rate this limiter grants this process (0: unlimited). <see cref="CallPolicy.PreferBatch"/> compares them.</summary>
    double RequestsPerSecond { get; }

    /// <summary>Whether a request would be granted now without waiting. A hint: another caller may take the token first.</summary>
    bool HasTokenNow { get; }

    /// <summary>
    /// About how long a request asking now would wait for its token (zero when one is there, or when the limiter cannot
    /// tell). A hint for deciding not to keep a caller waiting; it decides nothing about the request itself.
    /// </summary>
    TimeSpan EstimatedWait => TimeSpan.Zero;

    /// <summary>Waits for one token, bounded by <paramref name="cancellationToken"/>.</summary>
    /// <exception cref="SecretThrottledException">The limit refuses the request (fail-fast, or its wait queue is full).</exception>
    ValueTask AcquireAsync(string? reference, CancellationToken cancellationToken);
}

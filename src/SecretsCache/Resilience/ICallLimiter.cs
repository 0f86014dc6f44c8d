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

    /// <summary>Waits for one token, bounded by <paramref name="cancellationToken"/>.</summary>
    /// <exception cref="SecretThrottledException">The limit refuses the request (fail-fast, or its wait queue is full).</exception>
    ValueTask AcquireAsync(string? reference, CancellationToken cancellationToken);
}

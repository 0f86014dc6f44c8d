namespace SecretsCache.Caching;

/// <summary>How long a reader holding a stale value waits for the refresh (docs/benchmarks.md, "Latency while AWS fails").</summary>
internal sealed partial class CacheEngine
{
    /// <summary>
    /// Waits for the refresh <paramref name="fetch"/> of <paramref name="entry"/>, whose servable stale value the reader holds:
    /// true when the reader should get that value now, false when the refresh finished first (its outcome is then the
    /// reader's). The refresh runs on either way (single-flight), so the value recovers with AWS. The stale value goes out:
    /// <list type="bullet">
    /// <item>at once, when the source already knows it cannot answer within
    /// <see cref="SecretsCacheOptions.StaleFallbackTimeout"/> (an open breaker, a last attempt that was an outage in every
    /// region the read may go to, or a refresh that would have to wait for a rate-limit token);</item>
    /// <item>as soon as the source learns it, while the reader waits (the refresh's first attempt fails as an outage, a
    /// breaker opens: <see cref="Sources.ISecretSource.NextOutage"/>);</item>
    /// <item>after <see cref="SecretsCacheOptions.StaleFallbackTimeout"/>, as before.</item>
    /// </list>
    /// A failure of the key alone is not a signal: a malformed or refused answer says nothing of whether the next attempt
    /// answers in time.
    /// </summary>
    private async ValueTask<bool> StaleBeforeRefreshAsync(CacheEntry entry, Task<Secret> fetch, CancellationToken cancellationToken)
    {
        var wait = _options.StaleFallbackTimeout;
        if (wait == TimeSpan.Zero)
        {
            return true;
        }

        var outage = _source.NextOutage(entry.Reference); // asked first, so an outage learnt before the question below completes it
        if (_source.CannotAnswerWithin(entry.Reference, wait))
        {
            return true;
        }

        var bounded = wait < _options.FetchTimeout;
        if (!bounded && outage is null)
        {
            return false; // nothing to wait for but the refresh's outcome
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(bounded ? wait : Timeout.InfiniteTimeSpan, _time, stop.Token); // unbounded: ends only when the caller cancels
        try
        {
            while (true)
            {
                var first = outage is null
                    ? await Task.WhenAny(fetch, delay).ConfigureAwait(false)
                    : await Task.WhenAny(fetch, delay, outage).ConfigureAwait(false);
                if (first == fetch || fetch.IsCompleted)
                {
                    return false;
                }

                if (first == delay)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    return true;
                }

                // An outage somewhere the read may go: answered stale only if no region is left to answer in time.
                outage = _source.NextOutage(entry.Reference);
                if (_source.CannotAnswerWithin(entry.Reference, wait))
                {
                    return true;
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }
    }
}

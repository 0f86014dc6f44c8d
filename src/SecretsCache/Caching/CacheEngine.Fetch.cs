using System.Runtime.ExceptionServices;
using SecretsCache.Diagnostics;
using SecretsCache.Resilience;
using SecretsCache.Sources;

namespace SecretsCache.Caching;

/// <summary>Single-flight fetching and what a fetch's outcome does to an entry.</summary>
internal sealed partial class CacheEngine
{
    /// <summary>
    /// Returns the fetch under way for this entry, or starts one. The fetch runs on the engine's own token (disposal and
    /// <see cref="SecretsCacheOptions.FetchTimeout"/>), never a caller's, so one caller giving up cannot fail the others.
    /// Unless <paramref name="force"/> is set, an outcome that landed after the caller looked at the entry (a fresh value,
    /// or a failure still backing off) is returned instead: the caller missed only because that fetch was finishing.
    /// </summary>
    private Task<Secret> GetOrStartFetch(CacheEntry entry, bool force)
    {
        TaskCompletionSource<Secret> completion;
        lock (entry.Gate)
        {
            if (entry.InFlight is { } running)
            {
                return running;
            }

            if (!force)
            {
                // Complete() applies an outcome before it frees the slot, so under the gate a finished fetch is visible.
                var now = _clock.Now();
                if (entry.Value is { } value && now < value.ExpiresAt)
                {
                    return Task.FromResult(value.Secret);
                }

                if (entry.Failure is { } failure && now < failure.RetryAt)
                {
                    return Task.FromException<Secret>(failure.Error.SourceException);
                }
            }

            completion = new TaskCompletionSource<Secret>(TaskCreationOptions.RunContinuationsAsynchronously);
            entry.InFlight = completion.Task;
        }

        StartFetch(entry, completion, force ? FetchReason.Forced : FetchReason.Read); // CacheEngine.Sync.cs: off any caller's context
        return completion.Task;
    }

    private void RefreshAhead(CacheEntry entry, CachedValue seen, long now)
    {
        if (Volatile.Read(ref entry.InFlight) is not null || entry.Failure is { } failure && now < failure.RetryAt)
        {
            return;
        }

        // Nobody waits on this fetch; its outcome lands in the entry, and a failure starts the key's backoff.
        TaskCompletionSource<Secret> completion;
        lock (entry.Gate)
        {
            // Checked again under the gate: a refresh that finished since this hit read the entry has already replaced the
            // value (or recorded a failure that is backing off), and must not be repeated.
            if (entry.InFlight is not null || !ReferenceEquals(entry.Value, seen) || entry.Failure is { } recent && now < recent.RetryAt)
            {
                return;
            }

            completion = new TaskCompletionSource<Secret>(TaskCreationOptions.RunContinuationsAsynchronously);
            entry.InFlight = completion.Task;
        }

        StartFetch(entry, completion, FetchReason.RefreshAhead);
    }

    private async Task RunFetchAsync(CacheEntry entry, TaskCompletionSource<Secret> completion, FetchReason reason)
    {
        var started = _time.GetTimestamp(); // precise, for the duration metric
        using var activity = SecretsCacheActivities.StartFetch(in entry.Tags);
        SecretsCacheMetrics.Add(_metrics.Fetches, in entry.Tags);
        Secret? result = null;
        Exception? error = null;
        try
        {
            using var deadline = new DeadlineToken(_options.FetchTimeout, _time, _disposed.Token);
            try
            {
                result = await _source.FetchAsync(entry.Reference, entry.Value?.Secret, reason, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.TimedOut(_disposed.Token))
            {
                error = new SecretServiceUnavailableException(
                    $"Fetching '{entry.Key}' did not finish within FetchTimeout ({_options.FetchTimeout.TotalSeconds:0.###} s); raise FetchTimeout if AWS is slow but answering.", entry.Key, TimeoutCodes.FetchTimeout);
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }

        RecordDuration(entry, _time.GetElapsedTime(started).TotalSeconds, result);
        if (result?.Region is { } region)
        {
            activity?.SetTag(TelemetryTags.Region, region);
        }

        if (error is not null)
        {
            SecretsCacheActivities.Fail(activity, error);
        }

        Complete(entry, completion, result, error);
    }

    /// <summary>Records a fetch's duration, tagged with the region that answered (the primary, or a failover region) when it succeeded.</summary>
    private void RecordDuration(CacheEntry entry, double seconds, Secret? result)
    {
        if (result?.Region is not { } region)
        {
            _metrics.FetchDuration.Record(seconds, in entry.Tags);
            return;
        }

        var tags = entry.Tags; // a copy: one per fetch, not per hit
        tags.Add(TelemetryTags.Region, region);
        _metrics.FetchDuration.Record(seconds, in tags);
    }

    /// <summary>Applies a fetch's outcome to the entry, then releases the single-flight slot and the waiters, in that order.</summary>
    private void Complete(CacheEntry entry, TaskCompletionSource<Secret> completion, Secret? result, Exception? error)
    {
        var now = _clock.Now();
        try
        {
            if (result is not null)
            {
                Store(entry, result, now);
            }
            else
            {
                error ??= new InvalidOperationException("The source returned no value.");
                RecordFailure(entry, error, now);
            }
        }
        finally
        {
            // Even if a logger or meter listener threw above, the slot is freed and the waiters answered; else the key wedges.
            lock (entry.Gate)
            {
                if (entry.InFlight == completion.Task)
                {
                    entry.InFlight = null;
                }
            }

            if (result is not null)
            {
                completion.SetResult(result);
            }
            else
            {
                completion.SetException(error!);
                _ = completion.Task.Exception; // Observed here: a refresh-ahead failure has no waiter, and that is fine.
            }
        }
    }

    private void Store(CacheEntry entry, Secret secret, long now)
    {
        var previous = entry.Value;
        var unchanged = previous is not null && ReferenceEquals(previous.Secret, secret);
        // Counted from the AWS fetch (CacheEngine.Announced.cs), not from now: a value a second level kept is already that old.
        var fetched = unchanged ? now : FetchedTicks(secret, now);
        var (refreshAt, expiresAt, staleUntil) = Schedule(entry, fetched);
        var fetchedAt = unchanged ? previous!.FetchedAt : fetched;
        SetValue(entry, new CachedValue(secret, fetchedAt, refreshAt, expiresAt, staleUntil));
        entry.Failure = null;
        Log.Fetched(_logger, entry.Key, secret.Version);

        if (previous is not null && !ReferenceEquals(previous.Secret, secret) && !string.Equals(previous.Secret.Version, secret.Version, StringComparison.Ordinal))
        {
            AnnounceVersionChange(entry, previous.Secret, secret); // CacheEngine.Changes.cs
        }
    }

    /// <summary>When a value of <paramref name="entry"/> fetched at <paramref name="fetched"/> is refreshed, expires and stops being servable stale.</summary>
    private (long RefreshAt, long ExpiresAt, long StaleUntil) Schedule(CacheEntry entry, long fetched) =>
        _source.SharedRefreshAheadFraction(entry.Reference) is { } shared
            ? _policy.ScheduleShared(fetched, TtlOf(entry), shared, CachePolicy.KeyDraw(entry.Key))
            : _policy.Schedule(fetched, TtlOf(entry), _random());

    private void RecordFailure(CacheEntry entry, Exception error, long now)
    {
        _metrics.RecordFetchError(in entry.Tags, error);
        if (error is SecretNotFoundException)
        {
            // Authoritative: the secret or version is gone, so the old value must not be served.
            SetValue(entry, null);
            entry.Failure = new FailureState(ExceptionDispatchInfo.Capture(error), 1, now + _policy.Ticks(_options.NegativeTtl), IsNotFound: true);
            Log.NotFound(_logger, entry.Key, _options.NegativeTtl.TotalMilliseconds);
            return;
        }

        var attempt = (entry.Failure?.ConsecutiveFailures ?? 0) + 1;
        var backoff = _policy.Backoff(attempt, _random());
        entry.Failure = new FailureState(ExceptionDispatchInfo.Capture(error), attempt, now + _policy.Ticks(backoff), IsNotFound: false);
        Log.FetchFailed(_logger, entry.Key, SecretsCacheMetrics.ErrorTypeOf(error), attempt, backoff.TotalMilliseconds, error);
    }
}

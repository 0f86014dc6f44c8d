using SecretsCache.Diagnostics;
using SecretsCache.Resilience;
using SecretsCache.Sources;

namespace SecretsCache.Caching;

/// <summary>Loading many references at once through the source's batch API, without breaking single-flight.</summary>
internal sealed partial class CacheEngine
{
    public async Task<WarmUpResult> WarmUpAsync(IEnumerable<string> texts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(texts, "references");
        var started = _time.GetTimestamp(); // precise, for the duration metric

        // Parse everything first: a malformed reference fails the call before any I/O.
        var requested = texts.Distinct(StringComparer.Ordinal).Select(t => (Text: t, Entry: Resolve(t))).ToList();

        var now = _clock.Now();
        var claimed = new List<(CacheEntry Entry, TaskCompletionSource<Secret> Completion)>();
        var joined = new List<Task<Secret>>();
        foreach (var entry in requested.Select(r => r.Entry).Distinct())
        {
            lock (entry.Gate)
            {
                if (entry.InFlight is { } running)
                {
                    joined.Add(running);
                    continue;
                }

                // Checked under the gate, after the in-flight check: a fetch that finished since then has stored its value.
                if (entry.Value is { } value && now < value.ExpiresAt)
                {
                    continue;
                }

                // A key backing off after a failure (or a cached not-found) is not asked again before its time, so an
                // application that retries its warm-up in a loop cannot get around the backoff. It is reported below.
                if (entry.Failure is { } failure && now < failure.RetryAt)
                {
                    continue;
                }

                var completion = new TaskCompletionSource<Secret>(TaskCreationOptions.RunContinuationsAsynchronously);
                entry.InFlight = completion.Task;
                claimed.Add((entry, completion));
            }
        }

        if (claimed.Count > 0)
        {
            // Not awaited here: the batch runs on the engine's token and completes every claimed entry (FetchClaimedAsync
            // catches the source's errors), while this caller waits below on its own token, like a GetAsync caller does.
            StartShared(static s => s.Engine.FetchClaimedAsync(s.Claimed), (Engine: this, Claimed: claimed)); // off any caller's context
        }

        var pending = claimed.Select(c => c.Completion.Task).Concat(joined).ToArray();
        try
        {
            await Task.WhenAll(pending).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Per-reference errors are reported in the result below.
        }

        var failures = new Dictionary<string, Exception>(StringComparer.Ordinal);
        var loaded = 0;
        var end = _clock.Now();
        var evicted = new List<string>();
        foreach (var (text, entry) in requested)
        {
            if (!TryGetEntry(entry.IndexKey, out var kept) || !ReferenceEquals(kept, entry))
            {
                // Pushed out by the size bound: a later read goes to AWS again, so it was not warmed up. Not a failure of
                // the reference (nor a configuration error): the list does not fit in MaxEntries.
                evicted.Add(text);
            }
            else if (entry.Value is { } value && (entry.Failure is null || end < value.ExpiresAt))
            {
                // A failure beside a still-fresh value is a refresh that failed (for example refresh-ahead), not a failed load.
                loaded++;
            }
            else
            {
                failures[text] = entry.Failure?.Error.SourceException
                    ?? new SecretServiceUnavailableException($"'{entry.Key}' could not be loaded.", entry.Key);
            }
        }

        if (evicted.Count > 0)
        {
            Log.WarmUpEvicted(_logger, evicted.Count, requested.Count, _options.MaxEntries);
        }

        Log.WarmedUp(_logger, loaded, requested.Count, _time.GetElapsedTime(started).TotalMilliseconds);
        return new WarmUpResult(loaded, failures, evicted);
    }

    private async Task FetchClaimedAsync(List<(CacheEntry Entry, TaskCompletionSource<Secret> Completion)> claimed)
    {
        var started = _time.GetTimestamp(); // precise, for the duration metric
        using var activity = SecretsCacheActivities.StartBatchFetch(claimed.Count);
        IReadOnlyList<FetchOutcome>? outcomes = null;
        Exception? batchError = null;
        try
        {
            using var deadline = new DeadlineToken(_options.FetchTimeout, _time, _disposed.Token);
            try
            {
                outcomes = await _source.FetchManyAsync(claimed.Select(c => c.Entry.Reference).ToList(), deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.TimedOut(_disposed.Token))
            {
                batchError = new SecretServiceUnavailableException(
                    $"Warm-up of {claimed.Count} references did not finish within FetchTimeout ({_options.FetchTimeout.TotalSeconds:0.###} s); raise FetchTimeout for a longer warm-up list.", null, TimeoutCodes.FetchTimeout);
            }
        }
        catch (Exception ex)
        {
            batchError = ex;
        }

        if (batchError is not null)
        {
            SecretsCacheActivities.Fail(activity, batchError);
        }

        var seconds = _time.GetElapsedTime(started).TotalSeconds;
        for (var i = 0; i < claimed.Count; i++)
        {
            var (entry, completion) = claimed[i];
            SecretsCacheMetrics.Add(_metrics.Fetches, in entry.Tags);
            var outcome = outcomes is not null && i < outcomes.Count ? outcomes[i] : FetchOutcome.Failure(batchError ?? MissingOutcome(entry));
            RecordDuration(entry, seconds, outcome.Secret);
            Complete(entry, completion, outcome.Secret, outcome.Error);
        }
    }

    /// <summary>Caches a value fetched outside the engine (a path listing), unless a fetch of that key is under way.</summary>
    public void Prime(SecretReference reference, Secret secret)
    {
        var entry = Resolve(IndexKeys.Of(reference.CanonicalText)); // finds the entry under either key spelling
        lock (entry.Gate)
        {
            if (entry.InFlight is not null)
            {
                return;
            }
        }

        Store(entry, secret, _clock.Now());
    }

    private static InvalidOperationException MissingOutcome(CacheEntry entry) =>
        new($"The source returned no outcome for '{entry.Key}'.");
}

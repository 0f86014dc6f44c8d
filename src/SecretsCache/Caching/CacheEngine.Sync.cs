using System.Diagnostics.CodeAnalysis;
using SecretsCache.Diagnostics;
using SecretsCache.Sources;

namespace SecretsCache.Caching;

/// <summary>
/// Synchronous reads for code that cannot await (constructors, configuration binding, older frameworks): a peek that never
/// fetches, and a read that runs a miss off the caller's synchronization context and waits for it at most FetchTimeout.
/// </summary>
internal sealed partial class CacheEngine
{
    /// <summary>
    /// The cached value, if it is fresh (inside refresh-ahead's window too, though no refresh is started), without I/O,
    /// blocking or creating an entry. A
    /// value past its expiry (which only a failing refresh may serve, stale), a cached not-found, a key backing off and a
    /// reference never read all answer <see langword="false"/>.
    /// </summary>
    public bool TryGetCached(string text, [NotNullWhen(true)] out Secret? secret)
    {
        ArgumentNullException.ThrowIfNull(text, "reference");
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        if (!TryGetEntry(text, out var entry) || entry.Evicted)
        {
            // Another spelling of a cached key (an alias not yet seen): parse, but never add to the index.
            if (!TryGetByCanonical(SecretReference.Parse(text).CanonicalText, out entry) || entry.Evicted)
            {
                secret = null;
                return false;
            }
        }

        var now = _clock.Now();
        secret = entry.FreshAt(now) ?? (entry.Value is { } value && now < value.ExpiresAt ? value.Secret : null);
        if (secret is null)
        {
            return false;
        }

        MarkUsed(entry);
        if (_hits.Enabled)
        {
            SecretsCacheMetrics.Add(_hits, in entry.Tags);
        }

        return true;
    }

    /// <summary>
    /// <see cref="GetAsync"/>, synchronously. A fresh hit returns at once and allocates nothing. Anything else runs the
    /// asynchronous read with no synchronization context (on the thread pool when the caller runs on a task scheduler of
    /// its own), so no continuation of the shared fetch ever needs the caller's blocked thread, and waits at most
    /// <see cref="SecretsCacheOptions.FetchTimeout"/> for it; the errors are the asynchronous read's.
    /// </summary>
    public Secret Get(string text, CancellationToken cancellationToken)
    {
        if (TryHit(text, out var fresh, out var slot))
        {
            return fresh;
        }

        var entry = slot.Entry is { Evicted: false } found ? found : ResolveSlow(text);
        var pending = StartOffContext(entry, _clock.Now(), cancellationToken);
        if (pending.IsCompleted)
        {
            return pending.GetAwaiter().GetResult(); // a hit in refresh-ahead's window, a stale value, a cached error
        }

        return Wait(pending.AsTask(), entry.Key, cancellationToken);
    }

    private ValueTask<Secret> StartOffContext(CacheEntry entry, long now, CancellationToken cancellationToken)
    {
        if (TaskScheduler.Current != TaskScheduler.Default)
        {
            // Awaits would come back to the caller's scheduler, which may be waiting on this very read: start on the pool.
            return new ValueTask<Secret>(Task.Run(() => GetNotFreshAsync(entry, now, cancellationToken).AsTask(), cancellationToken));
        }

        var context = SynchronizationContext.Current;
        if (context is null)
        {
            return GetNotFreshAsync(entry, now, cancellationToken);
        }

        // What runs inline here (the start of the fetch, the HTTP send) sees no context, so none of its awaits captures it.
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            return GetNotFreshAsync(entry, now, cancellationToken);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    /// <summary>
    /// Starts a shared fetch (one that callers join) with no synchronization context and on the default scheduler, whoever
    /// asked first: its continuations, the source's included, then never need a caller's thread, which a synchronous read
    /// blocks. Only when the caller has a context of its own is anything done, and only on the pool when its scheduler is
    /// not the default one.
    /// </summary>
    private static void StartShared<TState>(Func<TState, Task> start, TState state)
    {
        if (TaskScheduler.Current != TaskScheduler.Default)
        {
            _ = Task.Run(() => start(state));
            return;
        }

        var context = SynchronizationContext.Current;
        if (context is null)
        {
            _ = start(state);
            return;
        }

        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            _ = start(state);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    private void StartFetch(CacheEntry entry, TaskCompletionSource<Secret> completion, FetchReason reason) =>
        StartShared(static s => s.Engine.RunFetchAsync(s.Entry, s.Completion, s.Reason), (Engine: this, Entry: entry, Completion: completion, Reason: reason));

    /// <summary>Blocks for <paramref name="pending"/>, at most FetchTimeout on the provider's clock: the fetch's own budget, which a joined fetch has partly spent.</summary>
    private Secret Wait(Task<Secret> pending, string key, CancellationToken cancellationToken)
    {
        try
        {
            return pending.WaitAsync(_options.FetchTimeout, _time, cancellationToken).GetAwaiter().GetResult();
        }
        catch (TimeoutException)
        {
            throw new SecretServiceUnavailableException(
                $"Reading '{key}' did not finish within FetchTimeout ({_options.FetchTimeout.TotalSeconds:0.###} s); raise FetchTimeout if AWS is slow but answering.", key, TimeoutCodes.FetchTimeout);
        }
    }
}

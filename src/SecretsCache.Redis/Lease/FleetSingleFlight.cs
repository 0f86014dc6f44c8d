using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Diagnostics;
using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Storage;

namespace SecretsCache.Redis.Lease;

/// <summary>Where a value came from, for the caller's L1 and telemetry.</summary>
internal enum FleetSource
{
    /// <summary>The second level had it (possibly written by a lease holder this call waited for).</summary>
    SecondLevel,

    /// <summary>This instance fetched it from AWS (holding the lease, or because Redis or the holder did not answer).</summary>
    Aws,
}

/// <summary>A value and when it stops being fresh (its AWS fetch time plus the TTL, whichever level served it).</summary>
internal sealed record FleetRead(L2Entry Entry, FleetSource Source);

/// <summary>
/// Fleet-wide single-flight: on an L1 miss, read the second level; else take the key's lease and fetch from AWS, write the
/// second level and publish the result; or, when another instance holds the lease, wait (bounded) for its result and read
/// the second level. A wait that runs out, a failed holder, or an unreachable Redis leads to this instance's own fetch.
/// Errors of the fetch itself reach the caller as they would without a second level; Redis errors never do.
/// </summary>
internal sealed class FleetSingleFlight(RedisConnection connection, RedisL2Store store, FleetLease lease, LeaseResults results)
{
    public ValueTask<FleetRead> GetOrFetchAsync(
        string canonicalKey, TimeSpan ttl, Func<CancellationToken, ValueTask<Secret>> fetch, CancellationToken cancellationToken = default) =>
        GetOrFetchAsync(canonicalKey, ttl, fetch, accept: null, cancellationToken);

    /// <summary>
    /// As above, but an entry of the second level serves only if <paramref name="accept"/> says so (a refresh-ahead wants one
    /// newer than the value it holds); otherwise this instance takes the lease and fetches, and so refreshes the entry for the
    /// fleet.
    /// </summary>
    public async ValueTask<FleetRead> GetOrFetchAsync(
        string canonicalKey, TimeSpan ttl, Func<CancellationToken, ValueTask<Secret>> fetch, Func<L2Entry, bool>? accept, CancellationToken cancellationToken)
    {
        var read = await store.ReadAsync(canonicalKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (read.Entry is { } cached && (accept is null || accept(cached)))
        {
            return new FleetRead(cached, FleetSource.SecondLevel);
        }

        var askedAt = connection.Time.GetTimestamp();
        var (status, handle) = read.Reason == L2MissReason.Unavailable
            ? (LeaseStatus.Unavailable, null)
            : await lease.TryAcquireAsync(canonicalKey, cancellationToken).ConfigureAwait(false);
        if (status == LeaseStatus.Acquired)
        {
            // A holder that finished between the read above and this lease has written the entry: look once more.
            read = await store.ReadAsync(canonicalKey, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (read.Entry is { } written && (accept is null || accept(written)))
            {
                await lease.ReleaseAsync(handle!, CancellationToken.None).ConfigureAwait(false);
                return new FleetRead(written, FleetSource.SecondLevel);
            }

            return await FetchHoldingLeaseAsync(canonicalKey, ttl, fetch, handle!, cancellationToken).ConfigureAwait(false);
        }

        if (status == LeaseStatus.Held && await WaitForHolderAsync(canonicalKey, accept, askedAt, cancellationToken).ConfigureAwait(false) is { } waited)
        {
            return new FleetRead(waited, FleetSource.SecondLevel);
        }

        var secret = await fetch(cancellationToken).ConfigureAwait(false);
        var entry = Entry(secret, ttl);
        await store.WriteAsync(canonicalKey, secret, ttl, cancellationToken).ConfigureAwait(false);
        return new FleetRead(entry, FleetSource.Aws);
    }

    private async ValueTask<FleetRead> FetchHoldingLeaseAsync(
        string canonicalKey, TimeSpan ttl, Func<CancellationToken, ValueTask<Secret>> fetch, LeaseHandle handle, CancellationToken cancellationToken)
    {
        Secret secret;
        try
        {
            using (new HolderProgress(connection, results, [handle]))
            {
                secret = await fetch(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await FinishAsync(handle, written: false).ConfigureAwait(false);
            throw;
        }

        var written = await store.WriteAsync(canonicalKey, secret, ttl, CancellationToken.None).ConfigureAwait(false);
        await FinishAsync(handle, written).ConfigureAwait(false);
        return new FleetRead(Entry(secret, ttl), FleetSource.Aws);
    }

    /// <summary>
    /// Ends a held lease: announces the outcome to the waiters (a failure sends them to fetch themselves) and releases the lease
    /// at once instead of at its expiry. Never throws.
    /// </summary>
    internal ValueTask FinishAsync(LeaseHandle handle, bool written) => FinishManyAsync([(handle, written)]);

    /// <summary>Ends every held lease of <paramref name="finished"/> as <see cref="FinishAsync"/> does, in two guarded round trips for the lot.</summary>
    internal async ValueTask FinishManyAsync(IReadOnlyList<(LeaseHandle Handle, bool Written)> finished)
    {
        if (finished.Count == 0)
        {
            return;
        }

        await results.PublishManyAsync([.. finished.Select(f => (f.Handle.Hash, f.Written ? LeaseOutcome.Fetched : LeaseOutcome.Failed))], CancellationToken.None).ConfigureAwait(false);
        await lease.ReleaseManyAsync([.. finished.Select(f => f.Handle)], CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// The holder's value from the second level (one <paramref name="accept"/> takes), or null when the wait ran out, the holder
    /// failed or nothing opens. <paramref name="askedAt"/> is the timestamp taken before the lease was asked for
    /// (<see cref="LeaseResults.Register"/>).
    /// </summary>
    internal async ValueTask<L2Entry?> WaitForHolderAsync(string canonicalKey, Func<L2Entry, bool>? accept, long askedAt, CancellationToken cancellationToken) =>
        (await WaitForHoldersAsync([canonicalKey], accept, askedAt, cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// <see cref="WaitForHolderAsync"/> for every key of <paramref name="canonicalKeys"/> at once (a warm-up's keys held by other
    /// instances): two reads of the second level (three when the second goes unanswered) and one wait for the lot, which ends
    /// <see cref="RedisL2Options.LeaseWaitTimeout"/> after the last word from a holder still owing its result.
    /// </summary>
    internal async ValueTask<L2Entry?[]> WaitForHoldersAsync(IReadOnlyList<string> canonicalKeys, Func<L2Entry, bool>? accept, long askedAt, CancellationToken cancellationToken)
    {
        var entries = new L2Entry?[canonicalKeys.Count];
        if (entries.Length == 0 || connection.Keys.Ring is not { } ring || !results.IsSubscribed)
        {
            return entries;
        }

        L2Entry? Accepted(L2Read read) => read.Entry is { } entry && (accept is null || accept(entry)) ? entry : null;

        var waits = canonicalKeys.Select(k => results.Register(RedisNames.Hash(ring.Current, k), askedAt)).ToArray();
        try
        {
            // A holder may have finished between the first read and the registration: look once more before waiting.
            var reads = await store.ReadManyAsync(canonicalKeys, cancellationToken: cancellationToken).ConfigureAwait(false);
            var waiting = new List<int>(entries.Length);
            for (var i = 0; i < entries.Length; i++)
            {
                if (Accepted(reads[i]) is { } entry)
                {
                    RedisL2Metrics.Add(connection.Metrics.LeaseWaits, "secretscache.lease.outcome", "already_written");
                    entries[i] = entry;
                }
                else if (reads[i].Reason != L2MissReason.Unavailable || !connection.Guard.Skips)
                {
                    waiting.Add(i); // a read Redis did not answer while it is up may answer after the holder's result
                }
            }

            if (waiting.Count == 0)
            {
                return entries;
            }

            var outcomes = await LeaseWait.WaitAllAsync([.. waiting.Select(i => waits[i])], connection.Options.LeaseWaitTimeout, connection.Time, cancellationToken).ConfigureAwait(false);
            var again = new List<int>(waiting.Count);
            for (var j = 0; j < waiting.Count; j++)
            {
                RedisL2Metrics.Add(connection.Metrics.LeaseWaits, "secretscache.lease.outcome", outcomes[j] switch
                {
                    LeaseOutcome.Fetched => "fetched",
                    LeaseOutcome.Failed => "failed",
                    _ => "timed_out",
                });
                if (outcomes[j] != LeaseOutcome.Failed)
                {
                    again.Add(waiting[j]); // Fetched, or timed out (the result message may have been lost while the entry was written).
                }
            }

            var keys = again.Select(i => canonicalKeys[i]).ToArray();
            // Not answered in a busy moment after the holder's word: once more, rather than fetch from AWS what the second
            // level most likely holds.
            var written = await store.ReadManyAsync(keys, askAgain: true, cancellationToken: cancellationToken).ConfigureAwait(false);

            for (var j = 0; j < again.Count; j++)
            {
                entries[again[j]] = Accepted(written[j]);
            }

            return entries;
        }
        finally
        {
            foreach (var wait in waits)
            {
                wait.Dispose();
            }
        }
    }

    private L2Entry Entry(Secret secret, TimeSpan ttl)
    {
        var fetchedAt = secret.FetchedAt == default ? connection.Time.GetUtcNow() : secret.FetchedAt;
        return new L2Entry(secret, fetchedAt, fetchedAt + ttl);
    }
}

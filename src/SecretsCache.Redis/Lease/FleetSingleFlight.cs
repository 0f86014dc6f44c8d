using System.Runtime.ExceptionServices;
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
/// One key's part in a fleet-wide single-flight over many keys: its fetch from AWS, which entries of the second level serve
/// it (null: any), and the token its fetch, and its wait for the outcome, run on. <see cref="FetchedAfter"/> (a refresh-ahead)
/// serves it only with an entry fetched after that time; unlike <see cref="Accept"/>, Redis checks it too, so the lease of
/// a key with no such entry is taken in the first step. <see cref="MayDefer"/> (a refresh-ahead whose value stays fresh a
/// while yet) makes a key that would be fetched without a lease (Redis did not answer, or its holder's wait brought nothing)
/// <see cref="FleetOutcome.Deferral"/> instead: the caller asks again later, rather than every instance at once asking AWS.
/// </summary>
internal sealed record FleetFetch(
    string CanonicalKey, TimeSpan Ttl, Func<CancellationToken, ValueTask<Secret>> Fetch, Func<L2Entry, bool>? Accept, CancellationToken CancellationToken,
    DateTimeOffset? FetchedAfter = null, bool MayDefer = false)
{
    /// <summary>Whether <paramref name="entry"/> serves this key.</summary>
    public bool Accepts(L2Entry entry) =>
        (FetchedAfter is not { } after || entry.FetchedAt > after) && (Accept is null || Accept(entry));
}

/// <summary>
/// A key's outcome of <see cref="FleetSingleFlight.GetOrFetchManyAsync"/>: what served it, what its own fetch threw, or
/// (<see cref="Deferred"/>) that it was not fetched, as <see cref="FleetFetch.MayDefer"/> allowed.
/// </summary>
internal readonly record struct FleetOutcome(FleetRead? Read, ExceptionDispatchInfo? Error, bool Deferred = false)
{
    /// <summary>Neither read nor fetched: to be asked again later.</summary>
    public static FleetOutcome Deferral => new(null, null, Deferred: true);

    /// <summary>The read, or the fetch's exception rethrown as it was thrown.</summary>
    public FleetRead GetOrThrow()
    {
        Error?.Throw();
        return Read ?? throw new InvalidOperationException(Deferred ? "The single-flight deferred the fetch." : "The single-flight produced no outcome.");
    }
}

/// <summary>
/// Fleet-wide single-flight: on an L1 miss, read the second level; else take the key's lease and fetch from AWS, write the
/// second level and publish the result; or, when another instance holds the lease, wait (bounded) for its result and read
/// the second level. A wait that runs out, a failed holder, or an unreachable Redis leads to this instance's own fetch.
/// Errors of the fetch itself reach the caller as they would without a second level; Redis errors never do.
/// </summary>
internal sealed class FleetSingleFlight(RedisConnection connection, RedisL2Store store, FleetLease lease, LeaseResults results, ReadOrLease readOrLease)
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
        string canonicalKey, TimeSpan ttl, Func<CancellationToken, ValueTask<Secret>> fetch, Func<L2Entry, bool>? accept, CancellationToken cancellationToken) =>
        (await GetOrFetchManyAsync([new FleetFetch(canonicalKey, ttl, fetch, accept, cancellationToken)], cancellationToken, callerWaits: true).ConfigureAwait(false))[0].GetOrThrow();

    /// <summary>
    /// <see cref="GetOrFetchAsync(string, TimeSpan, Func{CancellationToken, ValueTask{Secret}}, Func{L2Entry, bool}?, CancellationToken)"/>
    /// for every key of <paramref name="fetches"/>, each Redis step one guarded round trip for them all: read, with the leases
    /// of absent keys (<see cref="Lease.ReadOrLease"/>), then the leases of entries not accepted; one more read of the keys
    /// this instance leased in that second step (a holder may have finished between the read and the lease); the holders'
    /// fetches, written, announced and released in steps as they end; one wait for the keys others hold; and this instance's
    /// own fetches of what neither brought. <paramref name="stepsDone"/> runs once the steps before the fetches and waits are
    /// over (or failed); <paramref name="completed"/> as soon as a key's outcome is known. <paramref name="callerWaits"/> (an
    /// L1 miss) sends keys whose first step Redis did not answer to AWS without a lease, after one timeout.
    /// <paramref name="cancellationToken"/> is for the shared steps and the wait; each key's fetch runs on its own token, and
    /// its error is that key's outcome. A cancellation during the first steps is every unanswered key's outcome; during the
    /// wait, it is thrown once the fetches under way have ended.
    /// </summary>
    public async ValueTask<FleetOutcome[]> GetOrFetchManyAsync(
        IReadOnlyList<FleetFetch> fetches, CancellationToken cancellationToken, Action? stepsDone = null, Action<int, FleetOutcome>? completed = null, bool callerWaits = false)
    {
        var outcomes = new FleetOutcome[fetches.Count];
        void Set(int index, FleetOutcome outcome)
        {
            outcomes[index] = outcome;
            completed?.Invoke(index, outcome);
        }

        var own = new List<int>();
        var holding = new List<(int Index, LeaseHandle Handle)>();
        var waiting = new List<int>();
        long askedAt = 0;
        bool[] decidedWithRead = [];
        bool Accepts(int index, L2Entry entry) => fetches[index].Accepts(entry);
        try
        {
            var keys = fetches.Select(f => f.CanonicalKey).ToArray();
            var first = await readOrLease.RunAsync(
                keys, Accepts, cancellationToken, leaseWhenUnanswered: !callerWaits, [.. fetches.Select(f => f.FetchedAfter)]).ConfigureAwait(false);
            askedAt = first.AskedAt;
            decidedWithRead = first.DecidedWithRead;
            for (var i = 0; i < keys.Length; i++)
            {
                if (ReadOrLease.Accepted(first.Reads[i], i, Accepts))
                {
                    Set(i, new FleetOutcome(new FleetRead(first.Reads[i].Entry!, FleetSource.SecondLevel), null));
                    continue;
                }

                switch (first.Leases[i])
                {
                    case (LeaseStatus.Acquired, { } handle):
                        holding.Add((i, handle));
                        break;
                    case (LeaseStatus.Held, _):
                        waiting.Add(i);
                        break;
                    default:
                        own.Add(i); // Redis known down, the breaker open, or no answer to the lease: fetch without one
                        break;
                }
            }

            // A holder that finished between the read and a lease of the second step has written the entry: look once more.
            var gap = holding.Where(h => !first.DecidedWithRead[h.Index]).ToArray();
            if (gap.Length > 0)
            {
                var again = await store.ReadManyAsync([.. gap.Select(h => keys[h.Index])], cancellationToken: cancellationToken).ConfigureAwait(false);
                var written = new List<LeaseHandle>();
                for (var j = 0; j < gap.Length; j++)
                {
                    if (ReadOrLease.Accepted(again[j], gap[j].Index, Accepts))
                    {
                        Set(gap[j].Index, new FleetOutcome(new FleetRead(again[j].Entry!, FleetSource.SecondLevel), null));
                        written.Add(gap[j].Handle);
                    }
                }

                holding.RemoveAll(h => outcomes[h.Index].Read is not null);
                await FinishManyAsync([.. written.Select(h => (h, true))]).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            await FinishManyAsync([.. holding.Select(h => (h.Handle, false))]).ConfigureAwait(false);
            var cancelled = ExceptionDispatchInfo.Capture(ex);
            for (var i = 0; i < outcomes.Length; i++)
            {
                if (outcomes[i].Read is null)
                {
                    Set(i, new FleetOutcome(null, cancelled));
                }
            }

            return outcomes;
        }
        catch
        {
            await FinishManyAsync([.. holding.Select(h => (h.Handle, false))]).ConfigureAwait(false);
            throw;
        }
        finally
        {
            stepsDone?.Invoke();
        }

        Defer(own);
        var holders = FetchAsync(fetches, [.. holding.Select(h => (h.Index, (LeaseHandle?)h.Handle))], Set);
        var waits = WaitForHoldersAsync(
            [.. waiting.Select(i => fetches[i].CanonicalKey)], (j, entry) => Accepts(waiting[j], entry), askedAt, cancellationToken, [.. waiting.Select(i => decidedWithRead[i])]).AsTask();
        var mine = FetchAsync(fetches, [.. own.Select(i => (i, (LeaseHandle?)null))], Set);
        await Task.WhenAll(holders, waits, mine).ConfigureAwait(false);
        var waited = await waits.ConfigureAwait(false);
        var left = new List<int>();
        for (var j = 0; j < waiting.Count; j++)
        {
            if (waited[j] is { } entry)
            {
                Set(waiting[j], new FleetOutcome(new FleetRead(entry, FleetSource.SecondLevel), null));
            }
            else
            {
                left.Add(waiting[j]);
            }
        }

        Defer(left);
        await FetchAsync(fetches, [.. left.Select(i => (i, (LeaseHandle?)null))], Set).ConfigureAwait(false);
        return outcomes;

        // Keys that would go to AWS without a lease, and may wait: answered as deferred, and taken out of the list.
        void Defer(List<int> unleased)
        {
            foreach (var i in unleased.Where(i => fetches[i].MayDefer))
            {
                Set(i, FleetOutcome.Deferral);
            }

            unleased.RemoveAll(i => fetches[i].MayDefer);
        }
    }

    /// <summary>
    /// Fetches each of <paramref name="items"/> on its own token, while the leases held for them say so to their waiters.
    /// What comes back is written, and the leases ended (each as written or failed), in steps as the fetches end: a step
    /// starts at once when none is under way, and takes every fetch that ended since the last, so one slow fetch holds back
    /// none of the others.
    /// </summary>
    private async Task FetchAsync(IReadOnlyList<FleetFetch> fetches, List<(int Index, LeaseHandle? Handle)> items, Action<int, FleetOutcome> set)
    {
        if (items.Count == 0)
        {
            return;
        }

        var gate = new object();
        var ended = new List<(int Item, Secret? Secret)>();
        var steps = new List<Task>();
        var stepping = false;

        async Task StepAsync()
        {
            while (true)
            {
                (int Item, Secret? Secret)[] batch;
                lock (gate)
                {
                    if (ended.Count == 0)
                    {
                        stepping = false;
                        return;
                    }

                    batch = [.. ended];
                    ended.Clear();
                }

                await WriteAndFinishAsync(fetches, items, batch, set).ConfigureAwait(false);
            }
        }

        void Ended(int item, Secret? secret)
        {
            lock (gate)
            {
                ended.Add((item, secret));
                if (stepping)
                {
                    return;
                }

                stepping = true;
                steps.Add(Task.Run(StepAsync));
            }
        }

        using (new HolderProgress(connection, results, [.. items.Where(i => i.Handle is not null).Select(i => i.Handle!)]))
        {
            await Task.WhenAll(items.Select(async (item, j) =>
            {
                var fetch = fetches[item.Index];
                Secret? secret = null;
                try
                {
                    secret = await fetch.Fetch(fetch.CancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    set(item.Index, new FleetOutcome(null, ExceptionDispatchInfo.Capture(ex)));
                }

                Ended(j, secret);
            })).ConfigureAwait(false);
        }

        Task[] all;
        lock (gate)
        {
            all = [.. steps];
        }

        await Task.WhenAll(all).ConfigureAwait(false);
    }

    /// <summary>One step of <see cref="FetchAsync"/>: writes the fetched values of <paramref name="batch"/>, then ends their leases.</summary>
    private async Task WriteAndFinishAsync(
        IReadOnlyList<FleetFetch> fetches, List<(int Index, LeaseHandle? Handle)> items, (int Item, Secret? Secret)[] batch, Action<int, FleetOutcome> set)
    {
        var fetched = batch.Where(b => b.Secret is not null).ToArray();
        var written = await store.WriteManyAsync(
            [.. fetched.Select(b => (fetches[items[b.Item].Index].CanonicalKey, b.Secret!, fetches[items[b.Item].Index].Ttl))], CancellationToken.None).ConfigureAwait(false);
        var wrote = new HashSet<int>();
        for (var n = 0; n < fetched.Length; n++)
        {
            var (item, secret) = fetched[n];
            if (written[n])
            {
                wrote.Add(item);
            }

            var fetch = fetches[items[item].Index];
            set(items[item].Index, new FleetOutcome(new FleetRead(Entry(secret!, fetch.Ttl), FleetSource.Aws), null));
        }

        var finished = new List<(LeaseHandle, bool)>(batch.Length);
        foreach (var (item, _) in batch)
        {
            if (items[item].Handle is { } handle)
            {
                finished.Add((handle, wrote.Contains(item)));
            }
        }

        await FinishManyAsync(finished).ConfigureAwait(false);
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
        (await WaitForHoldersAsync([canonicalKey], accept is null ? null : (_, entry) => accept(entry), askedAt, cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// <see cref="WaitForHolderAsync"/> for every key of <paramref name="canonicalKeys"/> at once (a warm-up's keys held by other
    /// instances): two reads of the second level (three when the second goes unanswered) and one wait for the lot, which ends
    /// <see cref="RedisL2Options.LeaseWaitTimeout"/> after the last word from a holder still owing its result. An entry serves
    /// key <c>i</c> if <paramref name="accept"/> takes it (null: any). A key marked in <paramref name="heldWhenRead"/> (its lease
    /// found held by the script that found its entry absent, <see cref="ReadsAndLeases.DecidedWithRead"/>) is not read before
    /// the wait: its holder's result comes after <paramref name="askedAt"/>, and <see cref="LeaseResults"/> remembers it.
    /// </summary>
    internal async ValueTask<L2Entry?[]> WaitForHoldersAsync(
        IReadOnlyList<string> canonicalKeys, Func<int, L2Entry, bool>? accept, long askedAt, CancellationToken cancellationToken, bool[]? heldWhenRead = null)
    {
        var entries = new L2Entry?[canonicalKeys.Count];
        if (entries.Length == 0 || connection.Keys.Ring is not { } ring || !results.IsSubscribed)
        {
            return entries;
        }

        L2Entry? Accepted(L2Read read, int index) => ReadOrLease.Accepted(read, index, accept) ? read.Entry : null;

        var waits = canonicalKeys.Select(k => results.Register(RedisNames.Hash(ring.Current, k), askedAt)).ToArray();
        try
        {
            // A holder may have finished between the first read and the lease step: look once more before waiting.
            var look = Enumerable.Range(0, entries.Length).Where(i => heldWhenRead is null || !heldWhenRead[i]).ToArray();
            var reads = look.Length == 0 ? [] : await store.ReadManyAsync([.. look.Select(i => canonicalKeys[i])], cancellationToken: cancellationToken).ConfigureAwait(false);
            var waiting = new List<int>(entries.Length);
            for (int i = 0, j = 0; i < entries.Length; i++)
            {
                if (j == look.Length || look[j] != i)
                {
                    waiting.Add(i);
                    continue;
                }

                var read = reads[j++];
                if (Accepted(read, i) is { } entry)
                {
                    RedisL2Metrics.Add(connection.Metrics.LeaseWaits, "secretscache.lease.outcome", "already_written");
                    entries[i] = entry;
                }
                else if (read.Reason != L2MissReason.Unavailable || !connection.Guard.Skips)
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
                entries[again[j]] = Accepted(written[j], again[j]);
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

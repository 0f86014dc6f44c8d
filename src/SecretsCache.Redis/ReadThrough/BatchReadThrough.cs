using SecretsCache.Redis.Lease;
using SecretsCache.Sources;

namespace SecretsCache.Redis.ReadThrough;

/// <summary>
/// A warm-up through the second level, with the fleet-wide single-flight kept per key: every reference is read from Redis
/// and the misses take their leases (one round trip on a single server, <see cref="ReadOrLease"/>); what this instance holds (or what Redis cannot answer) goes to AWS in one batch, and is
/// written back; what another instance holds is waited for, and what that wait does not bring goes to AWS in a second batch.
/// Each step is one guarded round trip for all its keys (one timeout, one breaker sample), not one per key: a fleet's deploy
/// otherwise sends tens of thousands of guarded calls in its first second. A read step that Redis did not answer, while the
/// connection is up and the breaker closed (a burst in this process, a slow moment), still takes the leases, so the
/// instance waits for the keys' holders instead of fetching every key itself; it costs at most one more timeout. Outcomes
/// line up with the references, as the engine expects.
/// </summary>
internal sealed class BatchReadThrough(SecondLevelSource owner, RedisSecondLevel level, IReadOnlyList<SecretReference> references)
{
    private readonly FetchOutcome?[] _outcomes = new FetchOutcome?[references.Count];

    public async ValueTask<IReadOnlyList<FetchOutcome>> RunAsync(CancellationToken cancellationToken)
    {
        var direct = new List<int>();
        var shared = new List<int>();
        for (var i = 0; i < references.Count; i++)
        {
            (owner.Fleet.IsExempt(references[i]) ? direct : shared).Add(i);
        }

        foreach (var i in shared)
        {
            level.Backplane.Track(references[i].CanonicalText, owner.Fleet.HeldByEngine);
        }

        await Task.WhenAll(shared.Select(i => owner.Fleet.Removals.WaitAsync(references[i].CanonicalText, cancellationToken).AsTask())).ConfigureAwait(false);
        var first = await level.ReadOrLease.RunAsync([.. shared.Select(i => references[i].CanonicalText)], cancellationToken).ConfigureAwait(false);
        var held = new Dictionary<int, LeaseHandle>();
        var waiting = new List<int>();
        var heldWhenRead = new List<bool>();
        for (var j = 0; j < shared.Count; j++)
        {
            if (first.Reads[j].Entry is { } entry)
            {
                _outcomes[shared[j]] = FetchOutcome.Success(entry.Secret);
                continue;
            }

            switch (first.Leases[j])
            {
                case (LeaseStatus.Acquired, { } handle):
                    held[shared[j]] = handle;
                    break;
                case (LeaseStatus.Held, _):
                    waiting.Add(shared[j]);
                    heldWhenRead.Add(first.DecidedWithRead[j]);
                    break;
                default:
                    direct.Add(shared[j]); // Redis known down, the breaker open, or no answer to the lease: fetch without one
                    break;
            }
        }

        var fetching = FetchAsync([.. direct, .. held.Keys], held, cancellationToken);
        var waits = WaitAsync(waiting, first.AskedAt, [.. heldWhenRead], cancellationToken);
        await Task.WhenAll(fetching, waits).ConfigureAwait(false);
        var notWaited = await waits.ConfigureAwait(false);
        if (notWaited.Count > 0)
        {
            // Their holders are fetching them, in the fleet's batch queue ahead of this instance (it is served in order), so a
            // batch of ours could not come sooner: read them one by one, under GetSecretValue's own quota.
            await FetchAsync(notWaited, [], cancellationToken, singly: true).ConfigureAwait(false);
        }

        return [.. _outcomes.Select(o => o ?? FetchOutcome.Failure(new InvalidOperationException("The second level produced no outcome.")))];
    }

    /// <summary>
    /// Fetches <paramref name="indexes"/> from AWS, in one batch (or one by one, <paramref name="singly"/>), writes what came
    /// back, and ends this instance's leases.
    /// </summary>
    private async Task FetchAsync(List<int> indexes, Dictionary<int, LeaseHandle> held, CancellationToken cancellationToken, bool singly = false)
    {
        if (indexes.Count == 0)
        {
            return;
        }

        IReadOnlyList<FetchOutcome> fetched;
        try
        {
            using var progress = new HolderProgress(level.Connection, level.LeaseResults, held.Values);
            fetched = singly
                ? await Task.WhenAll(indexes.Select(i => FetchOneAsync(references[i], cancellationToken))).ConfigureAwait(false)
                : await owner.Inner.FetchManyAsync([.. indexes.Select(i => references[i])], cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await level.SingleFlight.FinishManyAsync([.. held.Values.Select(h => (h, false))]).ConfigureAwait(false);
            throw;
        }

        var writes = new List<(int Index, (string, Secret, TimeSpan) Entry)>(indexes.Count);
        for (var j = 0; j < indexes.Count; j++)
        {
            var index = indexes[j];
            var outcome = j < fetched.Count ? fetched[j] : FetchOutcome.Failure(new InvalidOperationException("The source returned no outcome."));
            _outcomes[index] = outcome;
            if (outcome.Secret is { } secret && !owner.Fleet.IsExempt(references[index]))
            {
                var key = references[index].CanonicalText;
                writes.Add((index, (key, secret, owner.TtlOf(key))));
            }
        }

        var written = await level.Store.WriteManyAsync([.. writes.Select(w => w.Entry)], CancellationToken.None).ConfigureAwait(false);
        var wroteAt = new HashSet<int>(writes.Where((_, j) => written[j]).Select(w => w.Index));
        await level.SingleFlight.FinishManyAsync([.. held.Select(h => (h.Value, wroteAt.Contains(h.Key)))]).ConfigureAwait(false);
    }

    private async Task<FetchOutcome> FetchOneAsync(SecretReference reference, CancellationToken cancellationToken)
    {
        try
        {
            return FetchOutcome.Success(await owner.Inner.FetchAsync(reference, null, FetchReason.Read, cancellationToken).ConfigureAwait(false));
        }
        catch (SecretsCacheException ex)
        {
            return FetchOutcome.Failure(ex); // as the engine's batches report one reference's failure
        }
    }

    /// <summary>
    /// Waits for the holders of <paramref name="indexes"/> (those found held by the read-and-lease script itself are not read
    /// again first); returns those whose wait brought nothing.
    /// </summary>
    private async Task<List<int>> WaitAsync(List<int> indexes, long askedAt, bool[] heldWhenRead, CancellationToken cancellationToken)
    {
        var entries = await level.SingleFlight.WaitForHoldersAsync(
            [.. indexes.Select(i => references[i].CanonicalText)], accept: null, askedAt, cancellationToken, heldWhenRead).ConfigureAwait(false);
        var left = new List<int>();
        for (var j = 0; j < indexes.Count; j++)
        {
            if (entries[j] is { } entry)
            {
                _outcomes[indexes[j]] = FetchOutcome.Success(entry.Secret);
            }
            else
            {
                left.Add(indexes[j]);
            }
        }

        return left;
    }
}

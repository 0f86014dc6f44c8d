using System.Security.Cryptography;
using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Encryption;
using StackExchange.Redis;

namespace SecretsCache.Redis.Lease;

/// <summary>Whether this instance may fetch a key from AWS now.</summary>
internal enum LeaseStatus
{
    /// <summary>This instance holds the lease: it fetches, writes the second level, publishes, releases.</summary>
    Acquired,

    /// <summary>Another instance holds it: wait for its result.</summary>
    Held,

    /// <summary>Redis could not answer: fetch without a lease (within the rate limit).</summary>
    Unavailable,
}

/// <summary>A held lease: the key it is for and the random token that proves this instance holds it.</summary>
internal sealed record LeaseHandle(RedisKey Name, byte[] Hash, RedisValue Token);

/// <summary>
/// The fleet-wide single-flight lease of one key: <c>SET name token NX PX duration</c> (in a script that also gives an
/// expiry to a lease key found without one), so exactly one instance holds it and
/// a dead holder's lease expires by itself; released by compare-and-delete, so a holder whose lease expired and passed to
/// another instance cannot delete the new holder's.
/// </summary>
internal sealed class FleetLease(RedisConnection connection)
{
    // A lease key found without an expiry (left by a PERSIST, a restore or another client; this library never writes one)
    // would hold the key for ever: every read would wait out LeaseWaitTimeout and fetch alone. It gets the lease's duration.
    // A lease that already holds this token is this instance's, taken by an attempt whose answer did not come in time.
    internal static readonly RedisScript Acquire = new("""
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
          return 1
        end
        if redis.call('PTTL', KEYS[1]) == -1 then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        if redis.pcall('GET', KEYS[1]) == ARGV[1] then
          return 1
        end
        return 0
        """);

    internal static readonly RedisScript Release = new("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """);

    public async ValueTask<(LeaseStatus Status, LeaseHandle? Handle)> TryAcquireAsync(string canonicalKey, CancellationToken cancellationToken = default) =>
        (await TryAcquireManyAsync([canonicalKey], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// Tries the lease of every key of <paramref name="canonicalKeys"/> in one guarded round trip; the outcomes line up with the
    /// keys. An attempt Redis did not answer in time may have taken leases all the same, which nobody would then release or
    /// fetch for: while Redis is up and the breaker closed, it is made once more with the same tokens (at most one more
    /// timeout), and a lease found holding its token is this instance's.
    /// </summary>
    public async ValueTask<(LeaseStatus Status, LeaseHandle? Handle)[]> TryAcquireManyAsync(IReadOnlyList<string> canonicalKeys, CancellationToken cancellationToken = default)
    {
        var outcomes = new (LeaseStatus Status, LeaseHandle? Handle)[canonicalKeys.Count];
        if (outcomes.Length == 0)
        {
            return outcomes;
        }

        if (connection.Keys.Ring is not { } ring)
        {
            Array.Fill(outcomes, (LeaseStatus.Unavailable, null));
            return outcomes;
        }

        var handles = new LeaseHandle[canonicalKeys.Count];
        for (var i = 0; i < handles.Length; i++)
        {
            var hash = RedisNames.Hash(ring.Current, canonicalKeys[i]);
            handles[i] = new LeaseHandle(connection.Names.Lease(hash), hash, RandomNumberGenerator.GetBytes(16));
        }

        // The script answers "yours" to a token it already holds, so asking again is safe.
        var set = await connection.Guard.RunAskingAgainAsync(
            "lease_acquire", (db: connection.Database, handles, milliseconds: (long)Math.Ceiling(connection.Options.LeaseDuration.TotalMilliseconds)),
            static s => Task.WhenAll(s.handles.Select(h => Acquire.EvaluateAsync(s.db, [h.Name], [h.Token, s.milliseconds]))),
            cancellationToken).ConfigureAwait(false);

        for (var i = 0; i < outcomes.Length; i++)
        {
            outcomes[i] = !set.Ok ? (LeaseStatus.Unavailable, null)
                : (long)set.Value![i] == 1 ? (LeaseStatus.Acquired, handles[i])
                : (LeaseStatus.Held, null);
        }

        return outcomes;
    }

    /// <summary>Releases the lease if this instance still holds it; true when it did.</summary>
    public async ValueTask<bool> ReleaseAsync(LeaseHandle handle, CancellationToken cancellationToken = default) =>
        (await ReleaseManyAsync([handle], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Releases every lease of <paramref name="handles"/> this instance still holds, in one guarded round trip; which it did, in order.</summary>
    public async ValueTask<bool[]> ReleaseManyAsync(IReadOnlyList<LeaseHandle> handles, CancellationToken cancellationToken = default)
    {
        if (handles.Count == 0)
        {
            return [];
        }

        var released = await connection.Guard.RunAsync(
            "lease_release", (db: connection.Database, handles),
            static s => Task.WhenAll(s.handles.Select(h => Release.EvaluateAsync(s.db, [h.Name], [h.Token]))),
            cancellationToken).ConfigureAwait(false);
        return [.. Enumerable.Range(0, handles.Count).Select(i => released.Ok && (long)released.Value![i] == 1)];
    }
}

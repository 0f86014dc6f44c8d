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
    // The lease of one key, as a Lua function both lease scripts share: 1 when it is this token's, 0 when another holds it.
    internal const string TakeFunction = """
        local function take(key, token, milliseconds)
          if redis.call('SET', key, token, 'NX', 'PX', milliseconds) then
            return 1
          end
          if redis.call('PTTL', key) == -1 then
            redis.call('PEXPIRE', key, milliseconds)
          end
          if redis.pcall('GET', key) == token then return 1 end
          return 0
        end

        """;

    // ARGV[1] is the duration in milliseconds, then one token per key.
    internal static readonly KeyedScript Acquire = new(TakeFunction + """
        local r = {}
        for i, key in ipairs(KEYS) do
          r[i] = take(key, ARGV[i + 1], ARGV[1])
        end
        return r
        """);

    // One token per key. Another type under a lease's name is no lease of ours; any other error is the script's.
    internal static readonly KeyedScript Release = new(KeyedScript.CallOrFalseFunction + """
        local r = {}
        for i, key in ipairs(KEYS) do
          local held, failed = call_or_false('GET', key)
          if failed then return failed end
          if held == ARGV[i] then r[i] = redis.call('DEL', key) else r[i] = 0 end
        end
        return r
        """);

    public async ValueTask<(LeaseStatus Status, LeaseHandle? Handle)> TryAcquireAsync(string canonicalKey, CancellationToken cancellationToken = default) =>
        (await TryAcquireManyAsync([canonicalKey], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// Tries the lease of every key of <paramref name="canonicalKeys"/> in one guarded round trip; the outcomes line up with the
    /// keys. An attempt Redis did not answer in time may have taken leases all the same, which nobody would then release or
    /// fetch for: while Redis is up and the breaker closed, it is made once more with the same tokens (at most one more
    /// timeout), and a lease found holding its token is this instance's.
    /// </summary>
    public ValueTask<(LeaseStatus Status, LeaseHandle? Handle)[]> TryAcquireManyAsync(IReadOnlyList<string> canonicalKeys, CancellationToken cancellationToken = default) =>
        connection.Keys.Ring is { } ring
            ? TryAcquireManyAsync(NewHandles(ring, canonicalKeys), cancellationToken)
            : ValueTask.FromResult(Enumerable.Repeat<(LeaseStatus, LeaseHandle?)>((LeaseStatus.Unavailable, null), canonicalKeys.Count).ToArray());

    /// <summary>A handle, with a new random token, for the lease of each key of <paramref name="canonicalKeys"/>.</summary>
    public LeaseHandle[] NewHandles(KeyRing ring, IReadOnlyList<string> canonicalKeys)
    {
        var tokens = RandomNumberGenerator.GetBytes(16 * canonicalKeys.Count);
        var handles = new LeaseHandle[canonicalKeys.Count];
        for (var i = 0; i < handles.Length; i++)
        {
            var hash = RedisNames.Hash(ring.Current, canonicalKeys[i]);
            handles[i] = new LeaseHandle(connection.Names.Lease(hash), hash, tokens.AsSpan(16 * i, 16).ToArray());
        }

        return handles;
    }

    /// <summary>As above, with the handles (and so the tokens) given: those of an earlier attempt, whose leases are then ours.</summary>
    public async ValueTask<(LeaseStatus Status, LeaseHandle? Handle)[]> TryAcquireManyAsync(LeaseHandle[] handles, CancellationToken cancellationToken)
    {
        var outcomes = new (LeaseStatus Status, LeaseHandle? Handle)[handles.Length];
        if (outcomes.Length == 0)
        {
            return outcomes;
        }

        cancellationToken.ThrowIfCancellationRequested();
        Guarded<bool[]> set;
        try
        {
            // The script answers "yours" to a token it already holds, so asking again is safe.
            set = await connection.Guard.RunAskingAgainAsync(
                "lease_acquire", (connection.Multiplexer, handles, milliseconds: (long)Math.Ceiling(connection.Options.LeaseDuration.TotalMilliseconds)),
                static async s => KeyedScript.Flags(await Acquire.EvaluateAsync(
                    s.Multiplexer, [.. s.handles.Select(h => h.Name)], [s.milliseconds], [.. s.handles.Select(h => h.Token)], argumentsPerKey: 1).ConfigureAwait(false)),
                cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Sent, and stopped waiting for: Redis may still take the leases, and nobody would fetch for them or end them
            // before they expire. Releasing with the same tokens (compare-and-delete) ends any it took.
            await ReleaseManyAsync(handles, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        for (var i = 0; i < outcomes.Length; i++)
        {
            outcomes[i] = !set.Ok ? (LeaseStatus.Unavailable, null)
                : set.Value![i] ? (LeaseStatus.Acquired, handles[i])
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
            "lease_release", (connection.Multiplexer, handles),
            static async s => KeyedScript.Flags(await Release.EvaluateAsync(
                s.Multiplexer, [.. s.handles.Select(h => h.Name)], [], [.. s.handles.Select(h => h.Token)], argumentsPerKey: 1).ConfigureAwait(false)),
            cancellationToken).ConfigureAwait(false);
        return [.. Enumerable.Range(0, handles.Count).Select(i => released.Ok && released.Value![i])];
    }
}

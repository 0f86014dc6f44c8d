using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Diagnostics;
using SecretsCache.Redis.Encryption;
using StackExchange.Redis;

namespace SecretsCache.Redis.Storage;

/// <summary>
/// The second level's entries: one envelope per canonical key, under the HMAC of that key, with a Redis expiry at the
/// entry's own. A read looks under the name of every key of the ring (current first), so entries written before a
/// rotation still open. Reads and writes never throw: any failure is a miss, or a write that did not happen.
/// </summary>
internal sealed class RedisL2Store(RedisConnection connection)
{
    private const string ReadOperation = "l2_read", WriteOperation = "l2_write", RemoveOperation = "l2_remove";

    // GETRANGE, not GET: at most one byte more than the longest envelope is read, so whatever is planted under a name, the
    // read is bounded. Another type planted under a name answers 0 for that key, not an error for them all; any other error
    // (an ACL's NOPERM, a server failing) is the script's. ARGV[1] is the last offset to read.
    internal static readonly KeyedScript Read = new(KeyedScript.CallOrFalseFunction + """
        local r = {}
        for i, key in ipairs(KEYS) do
          local value, failed = call_or_false('GETRANGE', key, 0, ARGV[1])
          if failed then return failed end
          r[i] = value or 0
        end
        return r
        """);

    // Each key's envelope, then its expiry in milliseconds. SET replaces whatever type is under the name.
    internal static readonly KeyedScript Write = new("""
        local r = {}
        for i, key in ipairs(KEYS) do
          redis.call('SET', key, ARGV[2 * i - 1], 'PX', ARGV[2 * i])
          r[i] = 1
        end
        return r
        """);

    public async ValueTask<L2Read> ReadAsync(string canonicalKey, string? expectedVersion = null, CancellationToken cancellationToken = default) =>
        (await ReadManyAsync([canonicalKey], expectedVersion, cancellationToken: cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// Reads every key of <paramref name="canonicalKeys"/> in one guarded round trip (a warm-up's keys): one timeout and one
    /// breaker sample for the lot, instead of one per key. The reads line up with the keys. With <paramref name="askAgain"/>, a
    /// read Redis did not answer in a busy moment is made once more (<see cref="RedisGuard.RunAskingAgainAsync"/>).
    /// </summary>
    public async ValueTask<L2Read[]> ReadManyAsync(
        IReadOnlyList<string> canonicalKeys, string? expectedVersion = null, bool askAgain = false, CancellationToken cancellationToken = default) =>
        Counted(await ReadCoreAsync(canonicalKeys, expectedVersion, askAgain, cancellationToken).ConfigureAwait(false));

    /// <summary>The names of every key of <paramref name="canonicalKeys"/> under each key of the ring (current first), key after key.</summary>
    internal RedisKey[] EntryNames(KeyRing ring, IReadOnlyList<string> canonicalKeys)
    {
        var perKey = ring.All.Count;
        var names = new RedisKey[canonicalKeys.Count * perKey];
        for (var i = 0; i < canonicalKeys.Count; i++)
        {
            for (var k = 0; k < perKey; k++)
            {
                names[(i * perKey) + k] = connection.Names.Entry(RedisNames.Hash(ring.All[k], canonicalKeys[i]));
            }
        }

        return names;
    }

    /// <summary>
    /// Opens what Redis answered for <paramref name="canonicalKeys"/> (<see cref="EntryNames"/>' order: a bulk string, or
    /// anything else for another type), and counts the hits and misses.
    /// </summary>
    internal L2Read[] Opened(KeyRing ring, IReadOnlyList<string> canonicalKeys, RedisResult[] values, string? expectedVersion) =>
        Counted(OpenAll(ring, canonicalKeys, values, expectedVersion));

    private L2Read[] OpenAll(KeyRing ring, IReadOnlyList<string> canonicalKeys, RedisResult[] values, string? expectedVersion)
    {
        var perKey = ring.All.Count;
        var reads = new L2Read[canonicalKeys.Count];
        var now = connection.Time.GetUtcNow();
        for (var i = 0; i < reads.Length; i++)
        {
            reads[i] = Open(ring, canonicalKeys[i], values.AsSpan(i * perKey, perKey), now, expectedVersion);
        }

        return reads;
    }

    /// <summary><paramref name="count"/> reads that Redis did not answer, counted as such.</summary>
    internal L2Read[] Unanswered(int count)
    {
        var reads = new L2Read[count];
        Array.Fill(reads, L2Read.Miss(L2MissReason.Unavailable));
        return Counted(reads);
    }

    private L2Read[] Counted(L2Read[] reads)
    {
        foreach (var read in reads)
        {
            if (read.IsHit)
            {
                RedisL2Metrics.Add(connection.Metrics.Hits, RedisL2Metrics.Reason, "hit");
            }
            else
            {
                RedisL2Metrics.Add(connection.Metrics.Misses, RedisL2Metrics.Reason, L2Read.TagOf(read.Reason));
            }
        }

        return reads;
    }

    /// <summary>
    /// Writes <paramref name="secret"/>, fresh until its AWS fetch time plus <paramref name="ttl"/>. False when it was not
    /// written (Redis unavailable, no key, or already expired).
    /// </summary>
    public async ValueTask<bool> WriteAsync(string canonicalKey, Secret secret, TimeSpan ttl, CancellationToken cancellationToken = default) =>
        (await WriteManyAsync([(canonicalKey, secret, ttl)], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Writes every entry of <paramref name="entries"/> in one guarded round trip; whether each was written, in order.</summary>
    public async ValueTask<bool[]> WriteManyAsync(IReadOnlyList<(string CanonicalKey, Secret Secret, TimeSpan Ttl)> entries, CancellationToken cancellationToken = default)
    {
        var written = new bool[entries.Count];
        if (connection.Keys.Ring is not { } ring)
        {
            return written;
        }

        var now = connection.Time.GetUtcNow();
        var writes = new List<(int Index, RedisKey Name, byte[] Envelope, TimeSpan Remaining)>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var (canonicalKey, secret, ttl) = entries[i];
            var fetchedAt = secret.FetchedAt == default ? now : secret.FetchedAt;
            var entry = new L2Entry(secret, fetchedAt, fetchedAt + ttl);
            var remaining = entry.RemainingAt(now);
            if (remaining < TimeSpan.FromMilliseconds(1))
            {
                continue;
            }

            try
            {
                writes.Add((i, connection.Names.Entry(RedisNames.Hash(ring.Current, canonicalKey)), EntryEnvelope.Seal(ring.Current, connection.Namespace, canonicalKey, entry), remaining));
            }
            catch (ArgumentException)
            {
                // Longer than AWS allows: not cached here, served from L1 and AWS as before.
            }
        }

        if (writes.Count == 0)
        {
            return written;
        }

        var sets = await connection.Guard.RunAsync(
            WriteOperation, (connection.Multiplexer, writes),
            static async s => KeyedScript.Flags(await Write.EvaluateAsync(
                s.Multiplexer,
                [.. s.writes.Select(w => w.Name)],
                [],
                [.. s.writes.SelectMany(w => (RedisValue[])[w.Envelope, (long)Math.Ceiling(w.Remaining.TotalMilliseconds)])],
                argumentsPerKey: 2).ConfigureAwait(false)),
            cancellationToken).ConfigureAwait(false);
        if (sets.Ok)
        {
            for (var j = 0; j < writes.Count; j++)
            {
                written[writes[j].Index] = sets.Value![j];
            }
        }

        return written;
    }

    /// <summary>Deletes the entry under every key's name (an Invalidate).</summary>
    public async ValueTask<bool> RemoveAsync(string canonicalKey, CancellationToken cancellationToken = default)
    {
        if (connection.Keys.Ring is not { } ring)
        {
            return false;
        }

        var names = ring.All.Select(k => connection.Names.Entry(RedisNames.Hash(k, canonicalKey))).ToArray();
        var removed = await connection.Guard.RunAsync(
            RemoveOperation, (db: connection.Database, names),
            static s => Task.WhenAll(s.names.Select(n => s.db.KeyDeleteAsync(n))),
            cancellationToken).ConfigureAwait(false);
        return removed.Ok;
    }

    /// <summary>
    /// Deletes every entry of the namespace (an InvalidateAll): entries are named by HMAC, so they are found by SCAN of the
    /// namespace's entry prefix on each primary. Bounded by the connect timeout; false (and a warning) when Redis could not
    /// do it all: down, too slow, or an ACL without SCAN.
    /// </summary>
    public async ValueTask<bool> RemoveAllAsync(CancellationToken cancellationToken = default)
    {
        var removed = await connection.Guard.RunBypassingBreakerAsync(
            RemoveOperation, connection,
            static async c =>
            {
                var pattern = c.Names.Prefix + "e:*";
                foreach (var server in c.Multiplexer.GetServers().Where(s => s.IsConnected && !s.IsReplica))
                {
                    var batch = new List<RedisKey>(256);
                    await foreach (var key in server.KeysAsync(c.Database.Database, pattern, pageSize: 256).ConfigureAwait(false))
                    {
                        batch.Add(key);
                        if (batch.Count == 256)
                        {
                            await Task.WhenAll(batch.Select(k => c.Database.KeyDeleteAsync(k))).ConfigureAwait(false); // one by one: a cluster spreads them over slots
                            batch.Clear();
                        }
                    }

                    if (batch.Count > 0)
                    {
                        await Task.WhenAll(batch.Select(k => c.Database.KeyDeleteAsync(k))).ConfigureAwait(false); // one by one: a cluster spreads them over slots
                    }
                }

                return true;
            },
            connection.Options.ConnectTimeout,
            cancellationToken).ConfigureAwait(false);
        if (!removed.Ok)
        {
            RedisLog.RemoveAllFailed(connection.Logger);
        }

        return removed.Ok;
    }

    private async ValueTask<L2Read[]> ReadCoreAsync(IReadOnlyList<string> canonicalKeys, string? expectedVersion, bool askAgain, CancellationToken cancellationToken)
    {
        var reads = new L2Read[canonicalKeys.Count];
        if (reads.Length == 0)
        {
            return reads;
        }

        if (connection.Keys.Ring is not { } ring)
        {
            Array.Fill(reads, L2Read.Miss(L2MissReason.NoKey));
            return reads;
        }

        var names = EntryNames(ring, canonicalKeys);
        var state = (connection.Multiplexer, names);
        static Task<RedisResult[]> ReadAll((IConnectionMultiplexer Multiplexer, RedisKey[] Names) s) =>
            Read.EvaluateAsync(s.Multiplexer, s.Names, [EntryEnvelope.MaxLength], [], argumentsPerKey: 0);
        var values = askAgain
            ? await connection.Guard.RunAskingAgainAsync(ReadOperation, state, ReadAll, cancellationToken).ConfigureAwait(false)
            : await connection.Guard.RunAsync(ReadOperation, state, ReadAll, cancellationToken).ConfigureAwait(false);
        if (!values.Ok)
        {
            Array.Fill(reads, L2Read.Miss(L2MissReason.Unavailable));
            return reads;
        }

        return OpenAll(ring, canonicalKeys, values.Value!, expectedVersion);
    }

    /// <summary>The first of <paramref name="values"/> (one per key of the ring) that opens, or why none did.</summary>
    private L2Read Open(KeyRing ring, string canonicalKey, ReadOnlySpan<RedisResult> values, DateTimeOffset now, string? expectedVersion)
    {
        var reason = L2MissReason.Absent;
        foreach (var value in values)
        {
            if (value.Resp2Type != ResultType.BulkString)
            {
                // Another type under the name (the script's 0), or an answer of another shape: nothing this library wrote.
                reason = reason == L2MissReason.Absent ? L2MissReason.Malformed : reason;
                continue;
            }

            var bytes = (byte[]?)value;
            if (bytes is not { Length: > 0 })
            {
                continue; // GETRANGE answers an absent key with an empty string
            }

            var opened = EntryEnvelope.Open(ring, connection.Namespace, canonicalKey, bytes, now, expectedVersion);
            if (opened.Entry is not null)
            {
                return new L2Read(opened.Entry, L2MissReason.None);
            }

            if (opened.Failure == OpenFailure.UnknownKey)
            {
                connection.Keys.OnUnknownKey(opened.KeyId);
            }

            if (reason == L2MissReason.Absent)
            {
                reason = L2Read.From(opened.Failure);
            }
        }

        return L2Read.Miss(reason);
    }
}

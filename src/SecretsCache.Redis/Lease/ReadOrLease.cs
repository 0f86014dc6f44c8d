using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Storage;
using StackExchange.Redis;

namespace SecretsCache.Redis.Lease;

/// <summary>
/// What the first step of a warm-up found for each key: its read, and the lease outcome (null where no lease was asked: the
/// entry was there, or Redis is known down or skipped). <see cref="AskedAt"/> is when the leases were asked for.
/// <see cref="DecidedWithRead"/> marks the keys whose lease was taken, or found held, in the same script that found their
/// entry absent: no holder can have written one between the two, and the holder of one found held had not written its
/// entry yet, so its "fetched" result comes after <see cref="AskedAt"/>.
/// </summary>
internal sealed record ReadsAndLeases(L2Read[] Reads, (LeaseStatus Status, LeaseHandle? Handle)?[] Leases, long AskedAt, bool[] DecidedWithRead);

/// <summary>
/// The first step of a warm-up: read every key from the second level and try the lease of each found absent, in one script
/// on a single server, so an instance that is to fetch a key knows it after one round trip, not two. A deploy's first
/// round trips meet the whole fleet's start at once; the holders' AWS fetches, which every other instance waits for, begin
/// a round trip sooner. On a cluster or a proxy (a key's entry names and its lease name fall in different hash slots), it
/// is a read and then a lease step. A key whose entry was there but did not open (expired, forged, under an unknown key)
/// gets its lease in a second step, as does one the caller does not accept (a refresh wants an entry newer than its own). When Redis did not answer while it is up and the breaker closed, every key goes to the
/// lease step (which asks once more itself) with the same tokens: leases the unanswered attempt took are ours.
/// </summary>
internal sealed class ReadOrLease(RedisConnection connection, RedisL2Store store, FleetLease lease)
{
    private const string Operation = "l2_read_lease";

    // KEYS: each key's entry names (one per ring key), then its lease name. ARGV: the last offset to read, the lease's
    // duration in milliseconds, the entry names per key, then per key its token and the fetch time (Unix milliseconds) an
    // entry must be newer than to count as there (0: any). An envelope's fetch time is in its header, in clear (bytes 22-29,
    // big-endian; authenticated when opened, so a forged one can only cost a lease step). Answers per key: what GETRANGE read
    // under each name (0 for another type), then 0 (not asked: something is there), 1 (the lease is ours) or 2 (held).
    internal static readonly KeyedScript Script = new(KeyedScript.CallOrFalseFunction + FleetLease.TakeFunction + """
        local function fetched_at(value)
          if #value < 29 then return 0 end
          local n = 0
          for j = 22, 29 do n = n * 256 + string.byte(value, j) end
          return n
        end
        local names = tonumber(ARGV[3])
        local r = {}
        for i = 0, #KEYS / (names + 1) - 1 do
          local after = tonumber(ARGV[5 + 2 * i])
          local found = false
          for k = 1, names do
            local value, failed = call_or_false('GETRANGE', KEYS[i * (names + 1) + k], 0, ARGV[1])
            if failed then return failed end
            if value and value ~= '' and (after == 0 or fetched_at(value) > after) then found = true end
            r[#r + 1] = value or 0
          end
          local leased = 0
          if not found then
            leased = 2 - take(KEYS[(i + 1) * (names + 1)], ARGV[4 + 2 * i], ARGV[2])
          end
          r[#r + 1] = leased
        end
        return r
        """);

    public ValueTask<ReadsAndLeases> RunAsync(IReadOnlyList<string> canonicalKeys, CancellationToken cancellationToken) =>
        RunAsync(canonicalKeys, accept: null, cancellationToken);

    /// <summary>
    /// As above, where an entry that opens serves key <c>i</c> only if <paramref name="accept"/> says so (null: any entry);
    /// one it does not is read, and its lease taken in the second step. <see cref="ReadsAndLeases.Reads"/> holds what was
    /// read, accepted or not.
    /// </summary>
    /// <remarks>
    /// With <paramref name="leaseWhenUnanswered"/> false (a miss a caller waits on), a step Redis did not answer leaves its keys
    /// without a lease, so the caller goes to AWS after one timeout rather than after the lease step's too. Key <c>i</c> with a
    /// time in <paramref name="fetchedAfter"/> (a refresh-ahead: it wants an entry fetched after the one it holds) has its
    /// lease taken by the script itself when no entry fetched later is there: the instances refreshing a key at the same
    /// moment learn in one round trip which of them fetches, and the others wait for it without another step.
    /// <paramref name="accept"/> must hold such a key to the same condition.
    /// </remarks>
    public async ValueTask<ReadsAndLeases> RunAsync(
        IReadOnlyList<string> canonicalKeys, Func<int, L2Entry, bool>? accept, CancellationToken cancellationToken, bool leaseWhenUnanswered = true,
        IReadOnlyList<DateTimeOffset?>? fetchedAfter = null)
    {
        var leases = new (LeaseStatus Status, LeaseHandle? Handle)?[canonicalKeys.Count];
        if (connection.Keys.Ring is not { } ring || !KeyedScript.SharesOneServer(connection.Multiplexer))
        {
            return await ReadThenLeaseAsync(canonicalKeys, accept, leaseWhenUnanswered, leases, cancellationToken).ConfigureAwait(false);
        }

        var handles = lease.NewHandles(ring, canonicalKeys);
        var perKey = ring.All.Count;
        var entryNames = store.EntryNames(ring, canonicalKeys);
        var names = new RedisKey[canonicalKeys.Count * (perKey + 1)];
        for (var i = 0; i < canonicalKeys.Count; i++)
        {
            Array.Copy(entryNames, i * perKey, names, i * (perKey + 1), perKey);
            names[((i + 1) * (perKey + 1)) - 1] = handles[i].Name;
        }

        var arguments = new RedisValue[2 * canonicalKeys.Count];
        for (var i = 0; i < canonicalKeys.Count; i++)
        {
            arguments[2 * i] = handles[i].Token;
            arguments[(2 * i) + 1] = fetchedAfter?[i] is { } after ? Math.Max(after.ToUnixTimeMilliseconds(), 1) : 0;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var askedAt = connection.Time.GetTimestamp();
        try
        {
            var answered = await connection.Guard.RunAsync(
                Operation,
                (connection.Multiplexer, names, handles, perKey, arguments, milliseconds: (long)Math.Ceiling(connection.Options.LeaseDuration.TotalMilliseconds)),
                static async s => Parse(
                    await Script.EvaluateAsync(
                        s.Multiplexer, s.names, [EntryEnvelope.MaxLength, s.milliseconds, s.perKey], s.arguments,
                        argumentsPerKey: 2, namesPerItem: s.perKey + 1, answersPerItem: s.perKey + 1).ConfigureAwait(false),
                    s.handles.Length,
                    s.perKey),
                cancellationToken).ConfigureAwait(false);

            var second = new List<int>();
            var decidedWithRead = new bool[canonicalKeys.Count];
            L2Read[] reads;
            if (answered.Ok)
            {
                var (values, flags) = answered.Value;
                reads = store.Opened(ring, canonicalKeys, values, expectedVersion: null);
                for (var i = 0; i < leases.Length; i++)
                {
                    switch (flags[i])
                    {
                        case 1:
                            leases[i] = (LeaseStatus.Acquired, handles[i]);
                            decidedWithRead[i] = true;
                            break;
                        case 2:
                            leases[i] = (LeaseStatus.Held, null);
                            decidedWithRead[i] = true;
                            break;
                        default:
                            if (!Accepted(reads[i], i, accept))
                            {
                                second.Add(i); // there, but it did not open or is not what the caller wants: this instance may have to fetch it
                            }

                            break;
                    }
                }
            }
            else
            {
                reads = store.Unanswered(canonicalKeys.Count);
                if (leaseWhenUnanswered && !connection.Guard.Skips)
                {
                    second.AddRange(Enumerable.Range(0, leases.Length)); // unanswered in a busy moment: the holders may still answer
                }
            }

            if (second.Count > 0)
            {
                var outcomes = await lease.TryAcquireManyAsync([.. second.Select(i => handles[i])], cancellationToken).ConfigureAwait(false);
                for (var j = 0; j < second.Count; j++)
                {
                    leases[second[j]] = outcomes[j];
                }
            }

            return new ReadsAndLeases(reads, leases, askedAt, decidedWithRead);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Sent, and stopped waiting for, or stopped before the lease step: the caller never learns of the leases the
            // script (or the lease step) took, and nobody would fetch for them or end them before they expire. Releasing with
            // the same tokens (compare-and-delete) ends any that were taken.
            await lease.ReleaseManyAsync(handles, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Whether <paramref name="read"/> serves key <paramref name="index"/>: an entry opened, and the caller takes it.</summary>
    internal static bool Accepted(L2Read read, int index, Func<int, L2Entry, bool>? accept) =>
        read.Entry is { } entry && (accept is null || accept(index, entry));

    private async ValueTask<ReadsAndLeases> ReadThenLeaseAsync(
        IReadOnlyList<string> canonicalKeys, Func<int, L2Entry, bool>? accept, bool leaseWhenUnanswered, (LeaseStatus Status, LeaseHandle? Handle)?[] leases, CancellationToken cancellationToken)
    {
        var reads = await store.ReadManyAsync(canonicalKeys, cancellationToken: cancellationToken).ConfigureAwait(false);
        // A read Redis did not answer while it is up and the breaker closed (a burst, a slow moment) still takes the leases.
        var misses = Enumerable.Range(0, reads.Length).Where(i => !Accepted(reads[i], i, accept) && !(reads[i].Reason == L2MissReason.Unavailable && (connection.Guard.Skips || !leaseWhenUnanswered))).ToArray();
        var askedAt = connection.Time.GetTimestamp();
        var outcomes = await lease.TryAcquireManyAsync([.. misses.Select(i => canonicalKeys[i])], cancellationToken).ConfigureAwait(false);
        for (var j = 0; j < misses.Length; j++)
        {
            leases[misses[j]] = outcomes[j];
        }

        return new ReadsAndLeases(reads, leases, askedAt, new bool[canonicalKeys.Count]);
    }

    /// <summary>The script's answer split into what was read under each name and each key's lease flag; throws for another shape.</summary>
    private static (RedisResult[] Values, long[] Flags) Parse(RedisResult[] answers, int keys, int perKey)
    {
        var values = new RedisResult[keys * perKey];
        var flags = new long[keys];
        for (var i = 0; i < keys; i++)
        {
            Array.Copy(answers, i * (perKey + 1), values, i * perKey, perKey);
            var flag = answers[((i + 1) * (perKey + 1)) - 1];
            if (flag.Resp2Type != ResultType.Integer || (long)flag is not (0 or 1 or 2))
            {
                throw new RedisException("The read-and-lease script answered a key's lease with something other than 0, 1 or 2.");
            }

            flags[i] = (long)flag;
        }

        return (values, flags);
    }
}

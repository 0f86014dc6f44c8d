using System.Globalization;
using SecretsCache.Redis.Connection;
using StackExchange.Redis;

namespace SecretsCache.Redis.FleetLimit;

/// <summary>
/// One fleet-wide token bucket's size. Tokens taken in a block stay usable for the block lifetime L after the request that
/// took them, so a token granted at Redis time g is spent within [g, g + L]: the requests of any one second were granted
/// within 1 + L seconds, at most capacity + rate × (1 + L). Sizing capacity = max(1, quota × burst / (1 + burst + L)) and
/// rate = (quota − capacity) / (1 + L) makes that exactly the quota.
/// </summary>
internal readonly record struct FleetBucketSize(double Rate, double Capacity)
{
    public static FleetBucketSize For(double quota, double burstSeconds, TimeSpan blockLifetime)
    {
        var lifetime = blockLifetime.TotalSeconds;
        var capacity = Math.Max(1, quota * burstSeconds / (1 + burstSeconds + lifetime));
        return new FleetBucketSize((quota - capacity) / (1 + lifetime), capacity);
    }

    /// <summary>After this long untouched the bucket is full again, and its key may go.</summary>
    public TimeSpan IdleLifetime => TimeSpan.FromSeconds((Capacity / Rate) + 1);
}

/// <summary>
/// What one round trip to the bucket gave, on Redis's clock (<paramref name="ServerMicroseconds"/>): <paramref name="Granted"/>
/// tokens, usable once <paramref name="RetryAfter"/> has passed (a reservation: zero when they are usable now); or, when
/// nothing was granted, how long until asking again may be granted.
/// </summary>
internal readonly record struct FleetGrant(long Granted, TimeSpan RetryAfter, long ServerMicroseconds)
{
    /// <summary>Whether the tokens were reserved for later: the bucket was empty, and requests ahead in the queue come first.</summary>
    public bool Reserved => Granted > 0 && RetryAfter > TimeSpan.Zero;
}

/// <summary>
/// The bucket in Redis: a hash of tokens and last-refill time, refilled and taken from atomically by one Lua script on Redis's
/// own clock (<c>TIME</c>), so every instance shares one clock and one count. A request the bucket can serve is granted now;
/// otherwise its tokens are reserved: the balance goes below zero, and the tokens are usable once the refill has paid the
/// debt back, so requests are served in the order they reached Redis, at the rate, each with one round trip. Tokens become
/// usable at most at the rate plus the capacity in any interval, as without reservations. A reservation would not be usable
/// within <see cref="Horizon"/> is not made: that request is told when to ask again.
/// </summary>
internal static class FleetBucket
{
    /// <summary>
    /// How far ahead tokens are reserved: longer than a deploy's queue for the batch quota (a few hundred instances' warm-ups at
    /// 100/s), shorter than the default <c>FetchTimeout</c> (15 s), so that a reservation is used by a caller still waiting.
    /// </summary>
    internal static readonly TimeSpan Horizon = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How far ahead a BatchGetSecretValue is reserved. A warm-up is its only user and could read its secrets one by one
    /// instead, under a quota of 55 times the requests: behind a longer queue (a fleet deploying at once, whose instances
    /// fetch for themselves) single reads are sooner. A quarter second: in the fleet benchmark a 1 s horizon let 126 batches
    /// of a deploy queue up, the lease holders' among them, and every instance waiting for those holders waited with them.
    /// </summary>
    internal static readonly TimeSpan BatchHorizon = TimeSpan.FromMilliseconds(250);

    // A balance more than an hour in debt is no balance this script writes (requests reserve at most Horizon ahead, by their
    // own horizon, so the floor does not depend on this request's): it is reset, as is one above the capacity.
    // Another type planted under the bucket's name is replaced, as a bucket that expired (pcall, so WRONGTYPE is not an error
    // that would send every instance to its static share for as long as the key stays). Numbers go back to Redis through
    // string.format: redis.call would print a Lua number with 14 digits, and a time in
    // microseconds has 16.
    internal static readonly RedisScript Take = new("""
        local rate = tonumber(ARGV[1])
        local capacity = tonumber(ARGV[2])
        local want = tonumber(ARGV[3])
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
        local state = redis.pcall('HMGET', KEYS[1], 'tokens', 'ts')
        if state.err then
          redis.call('DEL', KEYS[1])
          state = { false, false }
        end
        local tokens = tonumber(state[1])
        local ts = tonumber(state[2])
        if tokens == nil or ts == nil or tokens > capacity or tokens < -rate * 3600 then
          tokens = capacity
          ts = now
        end
        if now > ts then
          tokens = math.min(capacity, tokens + (now - ts) * rate / 1000000)
        end
        local debt = tonumber(ARGV[5])
        local granted = 0
        local wait = 0
        if tokens >= want then
          granted = want
          tokens = tokens - want
        elseif tokens - want >= -debt then
          granted = want
          tokens = tokens - want
          wait = math.ceil(-tokens * 1000000 / rate)
        else
          wait = math.ceil((want - debt - tokens) * 1000000 / rate)
        end
        redis.call('HSET', KEYS[1], 'tokens', string.format('%.9f', tokens), 'ts', string.format('%.0f', now))
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        return { granted, wait, string.format('%.0f', now) }
        """);

    public static Task<FleetGrant> TakeAsync(IDatabase database, RedisKey bucket, FleetBucketSize size, int want) =>
        TakeAsync(database, bucket, size, want, Horizon);

    /// <summary>As above, reserving at most <paramref name="horizon"/> ahead.</summary>
    public static async Task<FleetGrant> TakeAsync(IDatabase database, RedisKey bucket, FleetBucketSize size, int want, TimeSpan horizon)
    {
        // At least one request's worth, so a quota too small to reserve that far ahead still reserves (and never only polls).
        var debt = Math.Max(size.Rate * horizon.TotalSeconds, want);
        var result = await Take.EvaluateAsync(database, [bucket],
        [
            size.Rate.ToString("R", CultureInfo.InvariantCulture),
            size.Capacity.ToString("R", CultureInfo.InvariantCulture),
            want,
            (long)Math.Ceiling((size.IdleLifetime + TimeSpan.FromSeconds(debt / size.Rate)).TotalMilliseconds), // full again, debt repaid
            debt.ToString("R", CultureInfo.InvariantCulture),
        ]).ConfigureAwait(false);
        return Parse(result, want);
    }

    /// <summary>Reads the script's answer, trusting nothing: a wrong shape or a grant above what was asked is an error.</summary>
    internal static FleetGrant Parse(RedisResult result, int want)
    {
        if (result.Resp2Type != ResultType.Array || result.Length != 3)
        {
            throw new RedisException("The fleet bucket script answered in an unexpected shape.");
        }

        var granted = (long)result[0];
        var waitMicros = (long)result[1];
        if (granted < 0 || granted > want || waitMicros < 0 || waitMicros > 3_600_000_000
            || !long.TryParse((string?)result[2], NumberStyles.None, CultureInfo.InvariantCulture, out var now))
        {
            throw new RedisException("The fleet bucket script answered out of range.");
        }

        return new FleetGrant(granted, TimeSpan.FromTicks(waitMicros * 10), now);
    }
}

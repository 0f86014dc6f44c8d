using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Diagnostics;
using SecretsCache.Resilience;
using StackExchange.Redis;

namespace SecretsCache.Redis.FleetLimit;

/// <summary>
/// This instance's side of one fleet-wide bucket. A request takes a token left from the last block, or makes the one round
/// trip in flight for this instance (callers queue behind it): it asks for as many tokens as callers wait, up to
/// <see cref="RedisFleetRateLimitOptions.MaxBlock"/>. Tokens not spent within the block lifetime, counted from when the
/// round trip was sent, are dropped. An empty bucket says how long until the next token, and the round trip waits that
/// long before asking again. When Redis cannot answer, the static share decides.
/// </summary>
internal sealed class FleetQuotaLimiter : IDisposable
{
    private readonly RedisConnection _connection;
    private readonly RedisKey _bucket;
    private readonly FleetBucketSize _size;
    private readonly long _lifetimeTicks;
    private readonly int _maxBlock;
    private readonly ClientRateLimiter _fallback;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _roundTrip = new(1, 1);
    private readonly object _lock = new();
    private readonly string _quota;
    private int _available;
    private long _expiresAt;
    private int _demand;
    private bool _fallingBack;
    private bool _answered; // under the round trip: Redis has answered once, so the share sat unused (full) meanwhile
    private bool _lastFoundEmpty;

    public FleetQuotaLimiter(RedisConnection connection, string quota, double perSecond, RedisFleetRateLimitOptions options, ClientRateLimiter fallback)
    {
        _connection = connection;
        _quota = quota;
        _bucket = connection.Names.Bucket(quota);
        _size = FleetBucketSize.For(perSecond, options.BurstSeconds, options.BlockLifetime);
        _time = connection.Time;
        _lifetimeTicks = (long)(options.BlockLifetime.TotalSeconds * _time.TimestampFrequency);
        _maxBlock = options.MaxBlock;
        _fallback = fallback;
    }

    public FleetBucketSize Size => _size;

    /// <summary>Whether this instance's static share (which decides while Redis cannot answer) has a token now.</summary>
    internal bool FallbackHasTokenNow => _fallback.HasTokenNow;

    /// <summary>The static share's refill period.</summary>
    internal TimeSpan FallbackPeriod => _fallback.Period;

    /// <summary>Whether the last round trip found the fleet's bucket empty (a hint for choosing between batch and single reads).</summary>
    public bool LastFoundEmpty => Volatile.Read(ref _lastFoundEmpty);

    /// <summary>Whether Redis could not answer the last round trip, so the static share decides.</summary>
    public bool FallingBack => Volatile.Read(ref _fallingBack);

    public async ValueTask<FleetPermit> AcquireAsync(CancellationToken cancellationToken)
    {
        if (TryTakeLocal(out var permit))
        {
            return permit;
        }

        Interlocked.Increment(ref _demand);
        try
        {
            await _roundTrip.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await AcquireHoldingRoundTripAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _roundTrip.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _demand);
        }
    }

    public void Dispose()
    {
        _roundTrip.Dispose();
        _fallback.Dispose();
    }

    private async ValueTask<FleetPermit> AcquireHoldingRoundTripAsync(CancellationToken cancellationToken)
    {
        var waitStarted = 0L;
        while (true)
        {
            if (TryTakeLocal(out var permit))
            {
                return Waited(permit, waitStarted);
            }

            var want = Math.Clamp(Volatile.Read(ref _demand), 1, _maxBlock);
            var sentAt = _time.GetTimestamp();
            var grant = _connection.Guard.Skips
                ? default
                : await _connection.Guard.RunAsync(
                    "fleet_limit", (db: _connection.Database, bucket: _bucket, size: _size, want),
                    static s => FleetBucket.TakeAsync(s.db, s.bucket, s.size, s.want),
                    cancellationToken).ConfigureAwait(false);
            if (!grant.Ok)
            {
                return Waited(await FallbackAsync(cancellationToken).ConfigureAwait(false), waitStarted);
            }

            Volatile.Write(ref _fallingBack, false);
            _answered = true;
            Volatile.Write(ref _lastFoundEmpty, grant.Value.Granted == 0);
            if (grant.Value.Granted > 0)
            {
                lock (_lock)
                {
                    // One for this caller; the rest for the callers queued behind, until the block's lifetime ends.
                    _available = (int)grant.Value.Granted - 1;
                    _expiresAt = sentAt + _lifetimeTicks;
                }

                return Waited(new FleetPermit(FleetPermitSource.Fleet, _time.GetTimestamp()), waitStarted);
            }

            if (waitStarted == 0)
            {
                waitStarted = _time.GetTimestamp();
                RedisL2Metrics.Add(_connection.Metrics.FleetWaits, RedisL2Metrics.Quota, _quota);
            }

            await Task.Delay(grant.Value.RetryAfter, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private FleetPermit Waited(FleetPermit permit, long waitStarted)
    {
        if (waitStarted != 0 && _connection.Metrics.FleetWaitDuration.Enabled)
        {
            _connection.Metrics.FleetWaitDuration.Record(_time.GetElapsedTime(waitStarted).TotalSeconds, new KeyValuePair<string, object?>(RedisL2Metrics.Quota, _quota));
        }

        return permit;
    }

    private bool TryTakeLocal(out FleetPermit permit)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (_available > 0 && now < _expiresAt)
            {
                _available--;
                permit = new FleetPermit(FleetPermitSource.Fleet, now);
                return true;
            }

            _available = 0;
        }

        permit = default;
        return false;
    }

    private async ValueTask<FleetPermit> FallbackAsync(CancellationToken cancellationToken)
    {
        if (!Volatile.Read(ref _fallingBack))
        {
            Volatile.Write(ref _fallingBack, true);
            if (_answered)
            {
                // Unused while Redis answered, the share is full: emptied, its first token at a random moment within one
                // refill period, so a fleet that loses Redis at once does not send every instance's burst together.
#pragma warning disable CA5394 // Jitter, not security.
                _fallback.StartEmpty(Random.Shared.NextDouble());
#pragma warning restore CA5394
            }

            RedisLog.FleetFallback(_connection.Logger, _quota);
        }

        RedisL2Metrics.Add(_connection.Metrics.FleetFallbacks, RedisL2Metrics.Quota, _quota);
        try
        {
            await _fallback.AcquireAsync(null, cancellationToken).ConfigureAwait(false);
            return new FleetPermit(FleetPermitSource.Fallback, _time.GetTimestamp());
        }
        catch (SecretThrottledException)
        {
            return new FleetPermit(FleetPermitSource.Rejected, _time.GetTimestamp()); // its queue is full
        }
    }
}

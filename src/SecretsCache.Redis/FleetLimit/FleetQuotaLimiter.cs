using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Diagnostics;
using SecretsCache.Resilience;
using StackExchange.Redis;

namespace SecretsCache.Redis.FleetLimit;

/// <summary>
/// This instance's side of one fleet-wide bucket. A request takes a token left from the last block, or makes the one round
/// trip in flight for this instance (callers queue behind it): it asks for as many tokens as callers wait, up to
/// <see cref="RedisFleetRateLimitOptions.MaxBlock"/>. Tokens not spent within the block lifetime, counted from when the
/// round trip was sent (plus the reservation's wait), are dropped. An empty bucket reserves the tokens, usable after a wait
/// that puts this request behind those that reached Redis first (<see cref="FleetBucket"/>), so waiting instances neither
/// poll nor starve; beyond the reservation horizon it says when to ask again. A call not answered in time while Redis is up
/// and the breaker closed is asked once more. When Redis cannot answer, the static share decides: the quota over the fleet size this
/// instance saw while Redis answered (<see cref="FleetPresence.FallbackSize"/>). A share cut for another size replaces the
/// bucket when a fallback needs it, the new one empty (no burst on replacement). A wait in the share that would outlast the
/// breaker's first break asks Redis again at a reconnect or after that break, so an instance is not held to a share cut for
/// a large fleet once Redis answers.
/// </summary>
internal sealed class FleetQuotaLimiter : IDisposable
{
    private readonly RedisConnection _connection;
    private readonly RedisKey _bucket;
    private readonly FleetBucketSize _size;
    private readonly long _lifetimeTicks;
    private readonly TimeSpan _horizon; // how far ahead the bucket reserves for this quota
    private readonly TimeSpan _recheck; // the breaker's first break: how long a wait in the static share goes before Redis is asked again
    private readonly int _maxBlock;
    private readonly RedisFleetRateLimitOptions _options;
    private readonly FleetQuota _quotaKind;
    private readonly FleetPresence? _presence;
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
    private ClientRateLimiter _fallback; // replaced only under the round trip, which is also the only caller that waits in it
    private int _fallbackSize;           // the fleet size _fallback is cut for
    private bool _ownsFallback = true;   // false for the composition's share, adopted until a re-cut replaces it
    private bool _disposed;

    public FleetQuotaLimiter(RedisConnection connection, FleetQuota quota, string name, RedisFleetRateLimitOptions options, FleetPresence? presence)
    {
        _connection = connection;
        _quota = name;
        _quotaKind = quota;
        _options = options;
        _presence = presence;
        _bucket = connection.Names.Bucket(name);
        _size = FleetBucketSize.For(FleetRateLimiter.QuotaOf(quota, options), options.BurstSeconds, options.BlockLifetime);
        _time = connection.Time;
        _lifetimeTicks = (long)(options.BlockLifetime.TotalSeconds * _time.TimestampFrequency);
        _maxBlock = options.MaxBlock;
        _recheck = connection.Options.CircuitBreaker.FirstBreakDuration;
        _horizon = quota == FleetQuota.SecretsManagerBatch ? FleetBucket.BatchHorizon : FleetBucket.Horizon;
        _fallbackSize = options.FallbackFleetSize;
        _fallback = FleetRateLimiter.StaticShareOf(quota, options, _fallbackSize, _time);
    }

    public FleetBucketSize Size => _size;

    /// <summary>Whether this instance's static share (which decides while Redis cannot answer) has a token now.</summary>
    internal bool FallbackHasTokenNow => Volatile.Read(ref _fallback).HasTokenNow;

    /// <summary>The static share's refill period.</summary>
    internal TimeSpan FallbackPeriod => Volatile.Read(ref _fallback).Period;

    /// <summary>The static share's rate.</summary>
    internal double FallbackRate => Volatile.Read(ref _fallback).RequestsPerSecond;

    /// <summary>Requests waiting in the static share for a token (at most one: the caller holding the round trip).</summary>
    internal long FallbackQueued => Volatile.Read(ref _fallback).Queued;

    /// <summary>The fleet size the static share is cut for now (it follows the observed size when a fallback needs it).</summary>
    internal int FallbackFleetSize => Volatile.Read(ref _fallbackSize);

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

    /// <summary>
    /// Takes <paramref name="share"/> (the provider's static share of this quota before the level was made, cut for
    /// <see cref="RedisFleetRateLimitOptions.FallbackFleetSize"/>) as the fallback, in place of a fresh one: the tokens it
    /// spent stay spent, so an instance whose reads began before its level holds one share, not two. Before first use.
    /// </summary>
    internal void Adopt(ClientRateLimiter share)
    {
        ClientRateLimiter old;
        lock (_lock)
        {
            if (_disposed || !_ownsFallback || _fallbackSize != _options.FallbackFleetSize)
            {
                return;
            }

            old = _fallback;
            Volatile.Write(ref _fallback, share);
            _ownsFallback = false;
        }

        old.Dispose();
    }

    /// <summary>The static share this limiter falls back to now.</summary>
    internal ClientRateLimiter Fallback => Volatile.Read(ref _fallback);

    public void Dispose()
    {
        bool owns;
        lock (_lock)
        {
            _disposed = true;
            owns = _ownsFallback;
        }

        _roundTrip.Dispose();
        if (owns)
        {
            Volatile.Read(ref _fallback).Dispose();
        }
    }

    private async ValueTask<FleetPermit> AcquireHoldingRoundTripAsync(CancellationToken cancellationToken)
    {
        var waitStarted = 0L;
        var counted = false;
        while (true)
        {
            if (TryTakeLocal(out var permit))
            {
                return Waited(permit, waitStarted);
            }

            var want = Math.Clamp(Volatile.Read(ref _demand), 1, _maxBlock);
            var restored = _connection.Watch.NextRestore; // read before the call, so a reconnect after it is not missed
            var sentAt = _time.GetTimestamp();
            // Not answered in time while Redis is up and the breaker closed (a busy moment in this process), the call is made
            // once more: a share cut for the whole fleet has seconds between tokens, and its wait would last until the
            // breaker's first break. A token the unanswered call took is lost to the fleet, not spent twice.
            var grant = _connection.LimitGuard.Skips
                ? default
                : await _connection.LimitGuard.RunAskingAgainAsync(
                    "fleet_limit", (db: _connection.Database, bucket: _bucket, size: _size, want, horizon: _horizon),
                    static s => FleetBucket.TakeAsync(s.db, s.bucket, s.size, s.want, s.horizon),
                    cancellationToken).ConfigureAwait(false);
            if (!grant.Ok)
            {
                if (!counted)
                {
                    counted = true;
                    RedisL2Metrics.Add(_connection.Metrics.FleetFallbacks, RedisL2Metrics.Quota, _quota);
                }

                if (await FallbackAsync(restored, cancellationToken).ConfigureAwait(false) is { } fallback)
                {
                    return Waited(fallback, waitStarted);
                }

                continue; // Redis may answer again: ask the fleet's bucket before waiting any longer
            }

            Volatile.Write(ref _fallingBack, false);
            _answered = true;
            Volatile.Write(ref _lastFoundEmpty, grant.Value.Granted == 0 || grant.Value.Reserved);
            if (grant.Value.Granted > 0)
            {
                var reservedTicks = 0L;
                if (grant.Value.Reserved)
                {
                    // Requests that reached Redis first are served first; these tokens are usable once the wait is over.
                    waitStarted = WaitBegins(waitStarted);

                    reservedTicks = (long)(grant.Value.RetryAfter.TotalSeconds * _time.TimestampFrequency);
                    await Task.Delay(grant.Value.RetryAfter, _time, cancellationToken).ConfigureAwait(false);
                }

                lock (_lock)
                {
                    // One for this caller; the rest for the callers queued behind, until the block's lifetime ends (counted from
                    // when the tokens became usable).
                    _available = (int)grant.Value.Granted - 1;
                    _expiresAt = sentAt + reservedTicks + _lifetimeTicks;
                }

                return Waited(new FleetPermit(FleetPermitSource.Fleet, _time.GetTimestamp()), waitStarted);
            }

            if (_quotaKind == FleetQuota.SecretsManagerBatch)
            {
                RedisL2Metrics.Add(_connection.Metrics.FleetWaits, RedisL2Metrics.Quota, _quota);
                return Waited(new FleetPermit(FleetPermitSource.QueuedTooLong, _time.GetTimestamp()), waitStarted);
            }

            waitStarted = WaitBegins(waitStarted);
            await Task.Delay(grant.Value.RetryAfter, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The wait's start (counted once, in <c>fleet_limiter.waits</c>): <paramref name="waitStarted"/>, or now if it has not begun.</summary>
    private long WaitBegins(long waitStarted)
    {
        if (waitStarted != 0)
        {
            return waitStarted;
        }

        RedisL2Metrics.Add(_connection.Metrics.FleetWaits, RedisL2Metrics.Quota, _quota);
        return _time.GetTimestamp();
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

    /// <summary>
    /// The static share's permit, or null when the wait for it was cut short to ask Redis again. A share cut for a large fleet
    /// can be many seconds between tokens (40/s over 1,000 instances: one every 50 s), while what sent this instance here (a
    /// timeout in a busy moment, a restart) is often over within a second, and every caller of this quota waits behind this
    /// one. So a wait longer than the breaker's first break ends at a reconnect (<paramref name="restored"/>), or after that
    /// break, whichever is first; a token that arrives meanwhile stays in the share for the next wait.
    /// </summary>
    private async ValueTask<FleetPermit?> FallbackAsync(Task restored, CancellationToken cancellationToken)
    {
        var beginning = !Volatile.Read(ref _fallingBack);
        var size = _presence?.FallbackSize(_options.FallbackFleetSize, _options.FallbackGrowthMargin) ?? _options.FallbackFleetSize;
        if (size != _fallbackSize)
        {
            Reshare(size);
        }
        else if (beginning && _answered)
        {
            // Unused while Redis answered, the share is full: emptied, its first token at a random moment within one refill
            // period, so a fleet that loses Redis at once does not send every instance's burst together.
            _fallback.StartEmpty(Jitter());
        }

        if (beginning)
        {
            Volatile.Write(ref _fallingBack, true);
            RedisLog.FleetFallback(_connection.Logger, _quota, size);
        }

        var share = _fallback;
        var recheck = _recheck;
        try
        {
            if (share.HasTokenNow || share.Period <= recheck)
            {
                await share.AcquireAsync(null, cancellationToken).ConfigureAwait(false);
                return new FleetPermit(FleetPermitSource.Fallback, _time.GetTimestamp());
            }

            using var cut = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var acquired = share.AcquireAsync(null, cut.Token).AsTask();
            var timer = Task.Delay(recheck, _time, cut.Token);
            if (await Task.WhenAny(acquired, timer, restored).ConfigureAwait(false) != acquired)
            {
                await cut.CancelAsync().ConfigureAwait(false);
            }

            try
            {
                await acquired.ConfigureAwait(false); // it may have had its token before the cancellation reached it
                return new FleetPermit(FleetPermitSource.Fallback, _time.GetTimestamp());
            }
            catch (OperationCanceledException) when (cut.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }
        catch (SecretThrottledException)
        {
            return new FleetPermit(FleetPermitSource.Rejected, _time.GetTimestamp()); // its queue is full
        }
    }

    /// <summary>
    /// A share cut for <paramref name="size"/> instances in place of the one held, under the round trip (so nobody waits in
    /// the old one). It starts empty, its first token at a random moment within one period: a fleet that re-cuts its shares
    /// together sends no burst.
    /// </summary>
    private void Reshare(int size)
    {
        var replacement = FleetRateLimiter.StaticShareOf(_quotaKind, _options, size, _time);
        replacement.StartEmpty(Jitter());
        ClientRateLimiter old;
        bool owned;
        lock (_lock)
        {
            if (_disposed)
            {
                replacement.Dispose();
                return;
            }

            old = _fallback;
            owned = _ownsFallback;
            Volatile.Write(ref _fallback, replacement);
            Volatile.Write(ref _fallbackSize, size);
            _ownsFallback = true;
        }

        if (owned)
        {
            old.Dispose();
        }
    }

#pragma warning disable CA5394 // Jitter, not security.
    private static double Jitter() => Random.Shared.NextDouble();
#pragma warning restore CA5394
}

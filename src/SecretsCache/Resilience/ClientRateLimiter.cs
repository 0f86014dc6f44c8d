using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using SecretsCache.Composition;

namespace SecretsCache.Resilience;

/// <summary>
/// A token bucket for one service (burst: <see cref="RateLimitOptions.BurstSeconds"/> worth, at least one request). Over the
/// limit a request waits in a bounded queue or fails fast; it is never dropped silently. The bucket never grants more than the
/// configured rate (the refill step is rounded down, never up), and no one second more than rate × (1 + BurstSeconds), the
/// sum the fleet sizing rule adds up.
/// </summary>
/// <remarks>
/// <para>
/// A rate whose burst is less than one request (a fleet instance's share of a small quota, such as 40/s over 500 instances)
/// is a share of something other processes use too: such a bucket starts empty and gets its first token at a random moment
/// within one refill period, so a fleet that starts together spreads its first requests over that period instead of sending
/// one per instance in the same second. Every later token follows at the rate, from that random phase.
/// </para>
/// <para>
/// The bucket runs on the provider's <see cref="TimeProvider"/>. System.Threading.RateLimiting's token bucket refills from its
/// own stopwatch (its <c>TryReplenish</c> too), so the bucket is that library's <see cref="ConcurrencyLimiter"/> (its queue,
/// fail-fast and cancellation) whose permits are the tokens spent: a grant keeps its permit, and a refill timer on the
/// provider's clock hands back <see cref="TokensPerPeriod"/> of them per period, on a fixed phase. The timer runs only
/// while the bucket is not full.
/// </para>
/// </remarks>
internal sealed class ClientRateLimiter : ICallLimiter, IDisposable
{
    private readonly RateLimitBehavior _behavior;
    private readonly string _service;
    private readonly TimeProvider _time;
    private readonly ConcurrencyLimiter? _bucket;
    private readonly ConcurrentQueue<RateLimitLease> _spent = new();
    private readonly ITimer? _refills;
    private readonly object _gate = new();
    private long _firstRefill;            // timestamp of refill 0; refill j is at _firstRefill + j * _periodTicks
    private readonly long _periodTicks;   // in timestamp units
    private readonly long _earlyTicks;    // how early a timer may fire and still count as on time: 1 ms, timers' granularity
    private long _refilled;               // refills handed out (or, while full, let pass)
    private bool _armed;
    private bool _disposed;

    public ClientRateLimiter(string service, double requestsPerSecond, RateLimitOptions options, TimeProvider? time = null, Random? random = null)
        : this(service, requestsPerSecond, RateLimitSettings.From(options), time, random)
    {
    }

    public ClientRateLimiter(string service, double requestsPerSecond, RateLimitSettings options, TimeProvider? time = null, Random? random = null)
    {
        _service = service;
        _behavior = options.Behavior;
        _time = time ?? TimeProvider.System;
        RequestsPerSecond = Math.Max(0, requestsPerSecond);
        if (requestsPerSecond <= 0)
        {
            return;
        }

        (Period, TokensPerPeriod, TokenLimit) = Shape(requestsPerSecond, options.BurstSeconds);
        Staggered = Math.Floor((requestsPerSecond * options.BurstSeconds) + 1e-9) < 1;
        _bucket = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = TokenLimit,
            QueueLimit = options.Behavior == RateLimitBehavior.Wait ? options.QueueLimit : 0,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        _periodTicks = Timestamps(Period);
        _earlyTicks = Math.Min(Timestamps(TimeSpan.FromMilliseconds(1)), _periodTicks / 2);
        var now = _time.GetTimestamp();
        _refills = _time.CreateTimer(static state => ((ClientRateLimiter)state!).Refill(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (!Staggered)
        {
            _firstRefill = now + _periodTicks; // starts full; the refills follow every period from construction
            return;
        }

        // Starts empty, every token spent, until the refill at the random phase fills it: a phase drawn now but acted on
        // by a timer started later would let a fleet that starts together refill in the same millisecond, forever.
        StartDelay = Period * (random ?? Random.Shared).NextDouble();
        _firstRefill = now + Timestamps(StartDelay);
        if (StartDelay > TimeSpan.Zero)
        {
            for (var i = 0; i < TokenLimit; i++)
            {
                _spent.Enqueue(_bucket.AttemptAcquire(1));
            }

            Arm(now);
        }
    }

    /// <summary>The configured rate (0: unlimited).</summary>
    public double RequestsPerSecond { get; }

    /// <summary>Whether the bucket started empty, at a random phase (its burst is below one request).</summary>
    public bool Staggered { get; }

    /// <summary>How long after construction the first token comes (zero unless the burst is below one request).</summary>
    public TimeSpan StartDelay { get; private set; }

    /// <summary>The refill period (the timer's interval).</summary>
    public TimeSpan Period { get; }

    /// <summary>Tokens per refill.</summary>
    public int TokensPerPeriod { get; }

    /// <summary>The bucket's size in requests (0 when unlimited).</summary>
    public int TokenLimit { get; }

    /// <summary>Whether a request would be granted now without waiting (always when unlimited). A hint: another caller may take the token first.</summary>
    public bool HasTokenNow => _bucket is null || _bucket.GetStatistics()?.CurrentAvailablePermits > 0;

    /// <summary>Requests waiting for a token.</summary>
    public long Queued => _bucket?.GetStatistics()?.CurrentQueuedCount ?? 0;

    /// <summary>
    /// About how long a request asking now would wait: the queue ahead of it, less the tokens there, in refills from the next
    /// one on the bucket's phase. Zero when a token is there, when unlimited, and in fail-fast mode (nothing waits: a
    /// request without a token is refused at once).
    /// </summary>
    public TimeSpan EstimatedWait
    {
        get
        {
            if (_bucket is null || _behavior == RateLimitBehavior.FailFast || _bucket.GetStatistics() is not { } statistics)
            {
                return TimeSpan.Zero;
            }

            var missing = statistics.CurrentQueuedCount + 1 - statistics.CurrentAvailablePermits;
            if (missing <= 0)
            {
                return TimeSpan.Zero;
            }

            var now = _time.GetTimestamp();
            long nextRefill;
            lock (_gate)
            {
                nextRefill = _firstRefill + (_refilled * _periodTicks); // the first refill not handed out yet (a late timer's is due now)
            }

            var refills = (missing + TokensPerPeriod - 1) / TokensPerPeriod;
            return _time.GetElapsedTime(now, Math.Max(now, nextRefill)) + (Period * (refills - 1));
        }
    }

    public async ValueTask AcquireAsync(string? reference, CancellationToken cancellationToken)
    {
        if (_bucket is null)
        {
            return;
        }

        var lease = _behavior == RateLimitBehavior.FailFast
            ? _bucket.AttemptAcquire(1)
            : await _bucket.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            if (Volatile.Read(ref _disposed))
            {
                throw new OperationCanceledException($"The client-side rate limiter for AWS {_service} was disposed.");
            }

            throw Exhausted(reference);
        }

        _spent.Enqueue(lease);
        Arm(_time.GetTimestamp());
    }

    /// <summary>
    /// After a snapshot restore: the refills restart at a random point within one period from now (<paramref name="random"/>
    /// in [0, 1)), and a staggered share starts empty again, as at construction, so environments restored together do not
    /// refill in the same millisecond. A bucket that is not staggered keeps the tokens it holds.
    /// </summary>
    public void RestartPhase(double random) => RestartPhase(random, empty: Staggered);

    /// <summary>
    /// Spends every token and restarts the refills at a random point within one period from now (<paramref name="random"/>
    /// in [0, 1)): a share left unused for a while is full, and a fleet that starts using its shares at once (a fleet-wide
    /// limiter's fallback when Redis goes) would send every instance's burst in the same moment.
    /// </summary>
    public void StartEmpty(double random) => RestartPhase(random, empty: true);

    private void RestartPhase(double random, bool empty)
    {
        if (_bucket is null)
        {
            return;
        }

        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            var now = _time.GetTimestamp();
            StartDelay = Period * random;
            _firstRefill = now + Timestamps(StartDelay);
            _refilled = 0;
            while (empty && (StartDelay > TimeSpan.Zero || !Staggered))
            {
                var lease = _bucket.AttemptAcquire(1); // never a waiter's continuation here: only a release runs those
                if (!lease.IsAcquired)
                {
                    lease.Dispose();
                    break;
                }

                _spent.Enqueue(lease);
            }

            _armed = !_spent.IsEmpty;
            _refills!.Change(_armed ? _time.GetElapsedTime(now, _firstRefill) : Timeout.InfiniteTimeSpan, _armed ? Period : Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            Volatile.Write(ref _disposed, true);
            _refills?.Dispose();
        }

        _bucket?.Dispose(); // Queued requests complete unacquired and throw OperationCanceledException (see above).
        while (_spent.TryDequeue(out var lease))
        {
            lease.Dispose();
        }
    }

    /// <summary>
    /// The refill step: about 20 ms worth of tokens (at least one), every whole number of milliseconds rounded up, so timer
    /// granularity never lets the real rate exceed the configured one (150/s is 3 tokens every 20 ms, 11/s 1 every 91 ms).
    /// </summary>
    internal static (TimeSpan Period, int TokensPerPeriod) Replenishment(double requestsPerSecond)
    {
        var tokens = (int)Math.Clamp(Math.Round(requestsPerSecond * 0.02), 1, int.MaxValue);
        var milliseconds = Math.Ceiling(1_000 * tokens / requestsPerSecond);
        return (TimeSpan.FromMilliseconds(Math.Min(milliseconds, TimeSpan.FromDays(1).TotalMilliseconds)), tokens);
    }

    /// <summary>
    /// The refill step and the bucket's size. A second can hold ceil(1000 / period) refills, which for a period that does not
    /// divide a second is more than the rate's worth (90.9/s as 2 tokens every 22 ms fits 46 refills, 92 tokens); with the
    /// bucket's contents at the start of that second, the second would exceed rate × (1 + burstSeconds). So the bucket is made
    /// smaller by what the refills overshoot, and when it would drop below one refill the period is lengthened instead.
    /// A burst below one request (a staggered share) holds one refill.
    /// </summary>
    internal static (TimeSpan Period, int TokensPerPeriod, int TokenLimit) Shape(double requestsPerSecond, double burstSeconds)
    {
        var (period, tokens) = Replenishment(requestsPerSecond);
        var burst = Math.Min(Math.Floor((requestsPerSecond * burstSeconds) + 1e-9), int.MaxValue); // 5,500 / 550 x 0.1 is one request, not 0.99999...
        if (burst < 1)
        {
            return (period, tokens, tokens);
        }

        var second = Math.Floor((requestsPerSecond * (1 + burstSeconds)) + 1e-9);
        var room = second - (tokens * RefillsInOneSecond(period));
        if (room < tokens)
        {
            // Fewer refills a second: as many as leave room for one refill's worth in the bucket.
            var refills = Math.Floor((second - tokens) / tokens);
            if (refills < 1)
            {
                return (period, tokens, (int)Math.Max(tokens, burst)); // rate x (1 + burst) below two refills: no shape keeps it
            }

            period = TimeSpan.FromMilliseconds(Math.Max(period.TotalMilliseconds, Math.Ceiling(1_000 / refills)));
            room = second - (tokens * RefillsInOneSecond(period));
        }

        return (period, tokens, (int)Math.Max(tokens, Math.Min(burst, room)));
    }

    private static double RefillsInOneSecond(TimeSpan period) => Math.Ceiling((1_000 / period.TotalMilliseconds) - 1e-9);

    /// <summary>Called after a grant: starts the refill timer if the bucket was full, on the bucket's phase.</summary>
    private void Arm(long now)
    {
        lock (_gate)
        {
            if (_armed || _disposed)
            {
                return;
            }

            // The refills that came while the bucket was full are lost, as in any token bucket.
            var passed = RefillsBy(now);
            _refilled = Math.Max(_refilled, passed);
            _refills!.Change(UntilNextRefill(now), Period);
            _armed = true;
        }
    }

    private void Refill()
    {
        var due = 0L;
        var released = new List<RateLimitLease>();
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            // Counted from the clock, not from the callbacks: a timer that fires late (a busy thread pool) hands out every
            // refill that has come since, and a full bucket takes no more than it holds.
            var refills = RefillsBy(_time.GetTimestamp() + _earlyTicks);
            if (refills > _refilled)
            {
                due = Math.Min((refills - _refilled) * TokensPerPeriod, TokenLimit);
                _refilled = refills;
            }

            while (released.Count < due && _spent.TryDequeue(out var lease))
            {
                released.Add(lease);
            }

            if (_spent.IsEmpty)
            {
                _refills!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan); // full: the next grant re-arms it
                _armed = false;
            }
            else if (due == 0)
            {
                // Fired before the refill it was set for (system timers run on a coarse millisecond clock and fire up to a
                // few milliseconds early): re-armed for what is left, not left to the next period, a whole period late.
                var left = UntilNextRefill(_time.GetTimestamp());
                _refills!.Change(left > TimeSpan.FromMilliseconds(1) ? left : TimeSpan.FromMilliseconds(1), Period);
            }
        }

        // Outside the lock: a released permit goes straight to a waiting request, whose continuation may run here.
        foreach (var lease in released)
        {
            lease.Dispose();
        }
    }

    /// <summary>How long from <paramref name="now"/> until the next refill not yet handed out (zero when it is due).</summary>
    private TimeSpan UntilNextRefill(long now) => _time.GetElapsedTime(now, Math.Max(now, _firstRefill + (_refilled * _periodTicks)));

    /// <summary>How many refills are due by <paramref name="timestamp"/> (refill j is at <c>_firstRefill + j * period</c>).</summary>
    private long RefillsBy(long timestamp) => timestamp < _firstRefill ? 0 : ((timestamp - _firstRefill) / _periodTicks) + 1;

    private long Timestamps(TimeSpan span) => (long)(span.Ticks * (_time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));

    private SecretThrottledException Exhausted(string? reference) => new(
        $"The client-side rate limit for AWS {_service} is exhausted ({(_behavior == RateLimitBehavior.FailFast ? "fail-fast" : "wait queue full")}); see SecretsCacheOptions.RateLimits.",
        reference,
        RetryPipelineFactory.ClientRateLimited);
}

using System.Diagnostics;
using System.Net;

namespace SecretsCache.FleetSimulator;

/// <summary>
/// One application instance: its own <see cref="SecretProvider"/> and <see cref="HttpClient"/>, a warm-up at start, then a paced
/// caller loop. Reads never block the loop: a read that does not complete synchronously is finished by a continuation.
/// </summary>
internal sealed class Instance : IDisposable
{
    private const int MaxOutstanding = 200;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);

    private readonly Fleet _fleet;
    private readonly string[] _references;
    private readonly bool[] _loaded;
    private readonly int[] _missesInFlight;
    private readonly long[] _valueFetchedAt; // UTC ticks of the newest value a read returned (0: none seen yet)
    private readonly long[] _ttlTicks;
    private readonly Random _random;
    private readonly HttpClient _http;
    private readonly SecretProvider? _bypass;
    private readonly int _secrets;
    private readonly int[] _probing; // per secret: 1 while a rotation-probe read is in flight
    private int _outstanding;
    private int _warmUpFailures;
    private long _probeReads;
    private long _probeErrors;

    private Instance(Fleet fleet, int index, SecretsCacheOptions options, HttpClient http, SecretProvider provider, SecretsCacheOptions? bypassOptions)
    {
        _fleet = fleet;
        Index = index;
        _references = fleet.References;
        _secrets = fleet.SecretCount;
        _loaded = new bool[_references.Length];
        _missesInFlight = new int[_references.Length];
        RotationSeenAt = new long[_references.Length];
        ServesRotatedAt = new long[_secrets];
        _probing = new int[_secrets];
        _valueFetchedAt = new long[_references.Length];
        _ttlTicks = _references.Select(r => (options.TtlByReference.TryGetValue(r, out var ttl) ? ttl : options.DefaultTtl).Ticks).ToArray();
        _random = new Random(index * 7919);
        SecretsManagerRate = options.RateLimits.SecretsManagerRequestsPerSecond;
        _http = http;
        Provider = provider;
        if (bypassOptions is not null)
        {
            _bypass = new SecretProvider(bypassOptions, _http);
        }
    }

    /// <summary>
    /// An instance whose provider <paramref name="create"/> makes, asynchronously, on the instance's own HttpClient (an L2
    /// provider connects to Redis first). Nothing blocks a thread while it is made.
    /// </summary>
    public static async Task<Instance> CreateAsync(
        Fleet fleet,
        int index,
        SecretsCacheOptions options,
        Func<HttpClient, CancellationToken, Task<SecretProvider>> create,
        SecretsCacheOptions? bypassOptions,
        int maxConnections,
        CancellationToken cancellationToken)
    {
        var http = new HttpClient(new SendCounter(fleet)
        {
            InnerHandler = new SocketsHttpHandler
            {
                MaxConnectionsPerServer = maxConnections,
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
                ConnectTimeout = TimeSpan.FromSeconds(5),
                AutomaticDecompression = DecompressionMethods.None,
                UseProxy = false,
            },
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        try
        {
            var provider = await create(http, cancellationToken);
            return new Instance(fleet, index, options, http, provider, bypassOptions);
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    public int Index { get; }

    /// <summary>Reads (and emulated extra fetches) not finished yet.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    public SecretProvider Provider { get; }

    /// <summary>This instance's own client-side GetSecretValue rate (its <c>ShareAcross</c> share without the L2; 0: unlimited).</summary>
    public double SecretsManagerRate { get; }

    /// <summary>Stopwatch timestamp when the instance held every reference (0 while it does not).</summary>
    public long ReadyAt { get; private set; }


    /// <summary>Stopwatch timestamp when the instance held every Secrets Manager reference (0 while it does not).</summary>
    public long SecretsReadyAt { get; private set; }

    /// <summary>References the warm-up call could not load.</summary>
    public int WarmUpFailures => Volatile.Read(ref _warmUpFailures);

    /// <summary>Per secret: when a caller of this instance first read the rotated version (0: not yet).</summary>
    public long[] RotationSeenAt { get; }

    /// <summary>
    /// Per secret: when this instance would first have served the rotated version, by the rotation probe (0: not yet).
    /// See <see cref="ProbeRotation"/>.
    /// </summary>
    public long[] ServesRotatedAt { get; }

    /// <summary>Reads the rotation probe had to make (no fresh value in L1), and how many of them failed.</summary>
    public (long Reads, long Errors) ProbeCounts => (Volatile.Read(ref _probeReads), Volatile.Read(ref _probeErrors));

    /// <summary>
    /// One pass of the rotation probe over this instance's secrets: what a read of each would be answered with now. A fresh
    /// value in L1 (<see cref="SecretProvider.TryGetCached"/>: no I/O, no refresh started, no entry touched but its use) is
    /// what the instance serves, so a rotated version there counts at this pass. Without a fresh value a read would wait on
    /// a fetch (or be answered stale), so the probe makes that read and counts the moment it returns the rotated version.
    /// At most one probe read per secret is in flight. Called by one thread at a time.
    /// </summary>
    /// <returns>How many of this instance's secrets it did not serve in their rotated version yet.</returns>
    public int ProbeRotation(string?[] rotatedVersions)
    {
        var now = Stopwatch.GetTimestamp();
        var left = 0;
        for (var k = 0; k < _secrets; k++)
        {
            if (Volatile.Read(ref ServesRotatedAt[k]) != 0)
            {
                continue;
            }

            left++;
            if (Volatile.Read(ref _probing[k]) != 0 || Volatile.Read(ref rotatedVersions[k]) is not { } version)
            {
                continue;
            }

            if (Provider.TryGetCached(_references[k], out var cached))
            {
                if (string.Equals(cached.VersionId, version, StringComparison.Ordinal))
                {
                    Volatile.Write(ref ServesRotatedAt[k], now);
                }

                continue;
            }

            Volatile.Write(ref _probing[k], 1);
            Interlocked.Increment(ref _outstanding);
            Interlocked.Increment(ref _probeReads);
            _ = ProbeReadAsync(k, version);
        }

        return left;
    }

    private async Task ProbeReadAsync(int k, string version)
    {
        try
        {
            var secret = await Provider.GetAsync(_references[k]);
            if (string.Equals(secret.VersionId, version, StringComparison.Ordinal))
            {
                Volatile.Write(ref ServesRotatedAt[k], Stopwatch.GetTimestamp());
            }
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _probeErrors); // Not a caller's error; reported beside the spread.
        }
        finally
        {
            Volatile.Write(ref _probing[k], 0);
            Interlocked.Decrement(ref _outstanding);
        }
    }

    /// <summary>Warms up, waits until every reference is held (or the deadline), then serves until <paramref name="stop"/>.</summary>
    public async Task RunAsync(long serveDeadline, CancellationToken stop)
    {
        await Task.Yield();
        try
        {
            // Secrets and parameters warm up side by side, so a throttled Parameter Store does not hold back the secrets.
            var warming = Task.WhenAll(WarmAsync(0, _secrets, stop), WarmAsync(_secrets, _references.Length, stop));
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), serveDeadline);
            if (left > TimeSpan.Zero)
            {
                await Task.WhenAny(warming, Task.Delay(left, stop)); // Serve once warm, or at the deadline at the latest.
            }

            var serving = ServeAsync(stop);
            await warming;
            await serving;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    public void Dispose()
    {
        Provider.Dispose();
        _bypass?.Dispose();
        _http.Dispose();
    }

    /// <summary>Warms references [from, to) up, then re-reads whatever is missing every 250 ms until all are held.</summary>
    private async Task WarmAsync(int from, int to, CancellationToken stop)
    {
        if (from == to)
        {
            return;
        }

        if (_fleet.Disabled.HasFlag(Mechanism.Batching))
        {
            // Batching off: one GetAsync per reference, all at once (what an app without WarmUpAsync does at start).
            await Task.WhenAll(Enumerable.Range(from, to - from).Select(k => LoadAsync(k, stop)));
        }
        else
        {
            var result = await Provider.WarmUpAsync(_references[from..to], stop);
            for (var k = from; k < to; k++)
            {
                if (!result.Failures.ContainsKey(_references[k]))
                {
                    Volatile.Write(ref _loaded[k], true);
                }
            }
        }

        Interlocked.Add(ref _warmUpFailures, Enumerable.Range(from, to - from).Count(k => !Volatile.Read(ref _loaded[k])));
        while (!Loaded(from, to) && !stop.IsCancellationRequested)
        {
            // Readiness: re-read what the warm-up missed, through GetAsync (which honours the key's failure backoff).
            await Task.Delay(TimeSpan.FromMilliseconds(250), stop);
            await Task.WhenAll(Enumerable.Range(from, to - from).Where(k => !Volatile.Read(ref _loaded[k])).Select(k => LoadAsync(k, stop)));
        }

        var now = Stopwatch.GetTimestamp();
        if (from == 0)
        {
            SecretsReadyAt = now;
        }

        if (Loaded(0, _references.Length))
        {
            ReadyAt = now;
        }
    }

    private bool Loaded(int from, int to)
    {
        for (var k = from; k < to; k++)
        {
            if (!Volatile.Read(ref _loaded[k]))
            {
                return false;
            }
        }

        return true;
    }

    private async Task LoadAsync(int k, CancellationToken stop)
    {
        try
        {
            var secret = await Provider.GetAsync(_references[k], stop);
            Seen(k, secret);
            Volatile.Write(ref _loaded[k], true);
        }
        catch (Exception) when (!stop.IsCancellationRequested)
        {
            // Counted by the fleet's backend view; the readiness loop tries again.
        }
    }

    /// <summary>The caller load: <see cref="Fleet.ReadsPerInstance"/> reads a second over random references, paced in 100 ms ticks.</summary>
    private async Task ServeAsync(CancellationToken stop)
    {
        var rate = _fleet.ReadsPerInstance;
        var started = Stopwatch.GetTimestamp();
        long issued = 0;
        using var timer = new PeriodicTimer(Tick);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
                var due = (long)(elapsed * rate) - issued;
                var cap = (long)Math.Ceiling(rate * 0.5); // Never catch up more than half a second of lag at once.
                if (due > cap)
                {
                    issued += due - cap;
                    due = cap;
                }

                for (var i = 0; i < due; i++)
                {
                    Read(_random.Next(_references.Length));
                }

                issued += due;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private void Read(int k)
    {
        var stats = _fleet.Current;
        if (Volatile.Read(ref _outstanding) >= MaxOutstanding)
        {
            Interlocked.Increment(ref stats.Skipped);
            return;
        }

        Interlocked.Increment(ref stats.Reads);
        var held = Volatile.Read(ref _loaded[k]);
        var fetchedAt = Volatile.Read(ref _valueFetchedAt[k]);
        var stale = held && fetchedAt != 0 && DateTime.UtcNow.Ticks - fetchedAt >= _ttlTicks[k];
        var started = Stopwatch.GetTimestamp();
        ValueTask<Secret> pending;
        try
        {
            pending = Provider.GetAsync(_references[k]);
        }
        catch (Exception ex)
        {
            Record(stats, k, held, stale, Stopwatch.GetTimestamp() - started);
            stats.RecordError(ex, _loaded[k], k >= _secrets);
            return;
        }

        if (pending.IsCompletedSuccessfully)
        {
            var secret = pending.Result;
            var now = Stopwatch.GetTimestamp();
            Record(stats, k, held, stale, now - started);
            OnValue(k, secret, now);
            return;
        }

        Interlocked.Increment(ref stats.AsyncReads);
        Interlocked.Increment(ref _outstanding);
        var leader = Interlocked.Increment(ref _missesInFlight[k]) == 1;
        if (!leader && _bypass is not null)
        {
            // Single-flight off (emulated): a caller that would have joined the fetch under way fetches on its own.
            _ = BypassFetchAsync(k);
        }

        _ = CompleteAsync(pending, k, started, stats, held, stale);
    }

    private async Task CompleteAsync(ValueTask<Secret> pending, int k, long started, CallerStats stats, bool held, bool stale)
    {
        try
        {
            var secret = await pending;
            var now = Stopwatch.GetTimestamp();
            Record(stats, k, held, stale, now - started);
            if (k < _secrets)
            {
                stats.MissLatency.RecordTicks(now - started);
            }

            OnValue(k, secret, now);
        }
        catch (Exception ex)
        {
            // After the run stopped, providers are disposed and waiting reads are cancelled: not a scenario's error.
            var target = ReferenceEquals(_fleet.Current, _fleet.Shutdown) ? _fleet.Shutdown : stats;
            Record(target, k, held, stale, Stopwatch.GetTimestamp() - started);
            target.RecordError(ex, _loaded[k], k >= _secrets);
        }
        finally
        {
            Interlocked.Decrement(ref _missesInFlight[k]);
            Interlocked.Decrement(ref _outstanding);
        }
    }

    private async Task BypassFetchAsync(int k)
    {
        Interlocked.Increment(ref _outstanding);
        try
        {
            // Invalidate, then refresh: a new entry, so this fetch joins nothing.
            _bypass!.Invalidate(_references[k]);
            await _bypass.RefreshAsync(_references[k]);
        }
        catch (Exception)
        {
            // The extra fetch's outcome is not the caller's; the backend view counts it.
        }
        finally
        {
            Interlocked.Decrement(ref _outstanding);
        }
    }

    private LatencyHistogram Histogram(CallerStats stats, int k) => k < _secrets ? stats.Latency : stats.ParameterLatency;

    /// <summary>
    /// Records a read's latency by store, by whether the instance held the reference when the read began, and whether what it
    /// held was at least its TTL old (<paramref name="stale"/>: expired, so the read waits on a refresh or gets it stale).
    /// </summary>
    private void Record(CallerStats stats, int k, bool held, bool stale, long ticks)
    {
        Histogram(stats, k).RecordTicks(ticks);
        (held ? stats.HeldLatency : stats.ColdLatency).RecordTicks(ticks);
        if (stale)
        {
            stats.StaleLatency.RecordTicks(ticks);
            if (ticks > CallerStats.SlowStaleTicks && _fleet.Timeline is { } timeline)
            {
                var second = (Stopwatch.GetTimestamp() - timeline.StartTimestamp) / Stopwatch.Frequency;
                if (second is >= 0 and < CallerStats.TrackedSeconds)
                {
                    Interlocked.Increment(ref stats.SlowStaleBySecond[second]);
                    if (ticks > CallerStats.StaleFallbackTicks)
                    {
                        Interlocked.Increment(ref stats.FallbackStaleBySecond[second]);
                    }
                }
            }
        }
    }

    private void Seen(int k, Secret secret)
    {
        var at = secret.FetchedAt.UtcTicks;
        if (at > Volatile.Read(ref _valueFetchedAt[k]))
        {
            Volatile.Write(ref _valueFetchedAt[k], at);
        }
    }

    private void OnValue(int k, Secret secret, long now)
    {
        Seen(k, secret);
        if (!_loaded[k])
        {
            Volatile.Write(ref _loaded[k], true);
        }

        if (Volatile.Read(ref _fleet.RotatedVersions[k]) is { } version)
        {
            if (string.Equals(secret.VersionId, version, StringComparison.Ordinal))
            {
                if (RotationSeenAt[k] == 0)
                {
                    RotationSeenAt[k] = now;
                }
            }
            else
            {
                _fleet.OldVersionServed(now);
            }
        }
    }
}

/// <summary>Counts every request an instance sends, by operation and second of sending (see <see cref="RequestTimeline.Sent"/>).</summary>
internal sealed class SendCounter(Fleet fleet) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var target = request.Headers.TryGetValues("X-Amz-Target", out var targets) ? targets.FirstOrDefault() : null;
        fleet.Timeline?.RecordSent(target);
        var started = Stopwatch.GetTimestamp();
        var response = await base.SendAsync(request, cancellationToken);
        if (string.Equals(target, "secretsmanager.GetSecretValue", StringComparison.Ordinal))
        {
            fleet.Current.FetchLatency.RecordTicks(Stopwatch.GetTimestamp() - started);
        }

        return response;
    }
}

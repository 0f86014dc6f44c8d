using System.Diagnostics;
using System.Security.Cryptography;
using SecretsCache.Redis;
using SecretsCache.Testing;
using static SecretsCache.FleetSimulator.Report;

namespace SecretsCache.FleetSimulator;

/// <summary>One scenario's window on the run's timeline, and what callers saw in it.</summary>
internal sealed record Phase(Scenario Scenario, double StartSecond, double EndSecond, CallerStats Callers)
{
    public double Seconds => EndSecond - StartSecond;

    public List<string> Notes { get; } = [];

    public List<(double Second, string Label)> Markers { get; } = [];

    /// <summary>The longest thread-pool queue seen in this phase (a health check of the simulator itself).</summary>
    public long MaxQueued { get; set; }

    /// <summary>The highest one-minute load average of the whole machine seen in this phase (other processes included).</summary>
    public double MaxLoadAverage { get; set; }

    /// <summary>CPU this process used in this phase, in cores (1 = one core busy throughout).</summary>
    public double ProcessCores { get; set; }
}

/// <summary>
/// One run: an emulator enforcing the quotas, N instances, and the scenarios as consecutive phases of the fleet's life
/// (deploy, steady, rotation, outage). Every wait is bounded by the phase lengths; the whole run ends by itself.
/// </summary>
internal sealed class Fleet
{
    public const string SecretsManagerQuotaName = "GetSecretValue+DescribeSecret";
    private readonly Settings _settings;
    private readonly List<Instance> _instances = [];
    private readonly List<Instance> _added = [];
    private readonly byte[] _l2Key = RandomNumberGenerator.GetBytes(RedisL2Options.KeyLength);
    private RedisServer? _redis;
    private readonly ManualResetEventSlim _finished = new();
    private CallerStats _current;
    private long _startTicks;

    public Fleet(Settings settings)
    {
        _settings = settings;
        _current = Setup;
        Disabled = settings.Disabled;
        L2 = settings.L2;
        var secrets = Enumerable.Range(0, settings.Secrets).Select(i => $"fleet/service-{i:D3}");
        var parameters = Enumerable.Range(0, settings.ParameterCount).Select(i => $"ssm:/fleet/config/param-{i:D3}");
        References = [.. secrets, .. parameters];
        RotatedVersions = new string?[References.Length];
        ReadsPerInstance = settings.ReadsPerSecond / settings.Instances;
    }

    public Mechanism Disabled { get; }

    public bool L2 { get; }

    public string Label => Settings.Describe(Disabled, L2);

    /// <summary>
    /// Per secret: from the first instance that would serve the rotated version to the last, by the rotation probe (NaN where
    /// some instance did not serve it before the phase ended). See <see cref="Instance.ProbeRotation"/>.
    /// </summary>
    public List<double> RotationSpreads { get; } = [];

    /// <summary>The rotation probe's cadence: its resolution, and how late after an instance could serve a version it counts it.</summary>
    public static readonly TimeSpan RotationProbeInterval = TimeSpan.FromMilliseconds(100);

    public int SecretCount => _settings.Secrets;

    public string[] References { get; }

    /// <summary>Per reference: the version id the rotation made current (null before the rotation, and for parameters).</summary>
    public string?[] RotatedVersions { get; }

    public double ReadsPerInstance { get; }

    public CallerStats Current => Volatile.Read(ref _current);

    public List<Phase> Phases { get; } = [];

    public RequestTimeline? Timeline { get; private set; }

    public double TotalSeconds { get; private set; }

    public async Task RunAsync()
    {
        await using var aws = await AwsEmulator.StartAsync();
        await using var redis = L2 ? await RedisServer.StartNewAsync() : null;
        using var telemetry = L2 ? new L2Telemetry(this) : null;
        _redis = redis;
        SetQuotas(aws);
        for (var i = 0; i < _settings.Secrets; i++)
        {
            aws.CreateSecret(References[i], $$"""{"username":"svc{{i}}","password":"initial-{{i:D3}}-0000000000000000"}""");
        }

        for (var i = 0; i < ProbeCount; i++)
        {
            aws.CreateSecret($"fleet/probe-{i:D3}", $"probe-value-{i:D3}");
        }

        for (var i = 0; i < _settings.ParameterCount; i++)
        {
            aws.PutParameter(References[_settings.Secrets + i]["ssm:".Length..], $"value-{i}");
        }

        // Made side by side (at most 16 at a time), each awaited: an L2 instance connects and subscribes before it counts.
        var made = new Instance[_settings.Instances];
        using (var gate = new SemaphoreSlim(16))
        using (var making = new CancellationTokenSource(TimeSpan.FromSeconds(120)))
        {
            await Task.WhenAll(Enumerable.Range(0, _settings.Instances).Select(async i =>
            {
                await gate.WaitAsync(making.Token);
                try
                {
                    made[i] = await NewInstanceAsync(aws, i, making.Token);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        _instances.AddRange(made);

        Console.WriteLine($"  fleet: {_settings.Instances} instances x {_settings.Secrets} secrets + {_settings.ParameterCount} parameters, " +
            $"{_settings.ReadsPerSecond:N0} reads/s target, TTL {_settings.TtlSeconds} s ({_settings.ParameterTtlSeconds} s for parameters), {Label}{(L2 ? $" on redis-server {redis!.Configuration}, OperationTimeout {_settings.RedisOperationTimeoutMs} ms, refresh-ahead {_settings.L2RefreshAhead}, FallbackFleetSize {_settings.EffectiveFallbackFleetSize}" : string.Empty)}");

        aws.Requests.Reset();
        var maxSeconds = (int)_settings.TotalPhaseSeconds + 30;
        var start = TimeProvider.System.GetUtcNow();
        _startTicks = Stopwatch.GetTimestamp();
        Timeline = new RequestTimeline(start, maxSeconds) { StartTimestamp = _startTicks };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(maxSeconds));

        // A watchdog on its own thread: if the thread pool is starved, nothing scheduled on it can end the run.
        var watchdog = new Thread(() =>
        {
            if (!_finished.Wait(TimeSpan.FromSeconds(maxSeconds + 60)))
            {
                Console.WriteLine($"FleetSimulator: the run did not finish within {maxSeconds + 60} s (the process is saturated); exiting.");
                Console.Out.Flush();
                Environment.Exit(3);
            }
        })
        { IsBackground = true, Name = "watchdog" };
        watchdog.Start();
        using var stopPolling = new CancellationTokenSource();
        var polling = PollAsync(aws, stopPolling.Token);
        var running = new List<Task>();
        try
        {
            foreach (var scenario in _settings.Scenarios)
            {
                var phase = new Phase(scenario, Now(), Now() + _settings.PhaseSeconds(scenario), new CallerStats());
                Phases.Add(phase);
                Volatile.Write(ref _current, phase.Callers);
                var end = _startTicks + (long)(phase.EndSecond * Stopwatch.Frequency);
                Console.WriteLine($"  [{Now(),6:0.0} s] {scenario}");
                switch (scenario)
                {
                    case Scenario.Deploy:
                        // The whole fleet cold-starts at once; an instance serves once it holds every reference (or the phase ends).
                        running.AddRange(_instances.Select(instance => instance.RunAsync(end, stop.Token)));
                        await WaitUntilAsync(end);
                        SummarizeDeploy(phase);
                        break;
                    case Scenario.Rotation:
                        await WaitUntilAsync(Math.Min(end, Ticks(phase.StartSecond + 2)));
                        var rotatedAt = Stopwatch.GetTimestamp();
                        for (var i = 0; i < _settings.Secrets; i++)
                        {
                            Volatile.Write(ref RotatedVersions[i], aws.PutSecretValue(References[i], $$"""{"username":"svc{{i}}","password":"rotated-{{i:D3}}-1111111111111111"}"""));
                        }

                        phase.Notes.Add($"every secret rotated (PutSecretValue) at t = {Seconds(rotatedAt):0.0} s");
                        phase.Markers.Add((Seconds(rotatedAt), "rotation"));
                        var probing = ProbeRotationAsync(end, stop.Token);
                        await WaitUntilAsync(end);
                        await probing;
                        SummarizeRotation(phase, rotatedAt);
                        break;
                    case Scenario.Outage:
                        var failFrom = phase.StartSecond + Math.Min(3, _settings.Seconds / 5);
                        await WaitUntilAsync(Ticks(failFrom));
                        aws.Faults.FailNext(int.MaxValue, 503); // Every request that passes the quotas answers 503 ServiceUnavailable.
                        var failedAt = Now();
                        await WaitUntilAsync(Math.Min(end, Ticks(failedAt + _settings.OutageSeconds)));
                        aws.Faults.ClearFailures(); // The quotas stay as they are.
                        var recoveredAt = Now();
                        phase.Markers.Add((failedAt, "503s start"));
                        phase.Markers.Add((recoveredAt, "recovered"));
                        phase.Notes.Add($"every request answered 503 from t = {failedAt:0.0} s to t = {recoveredAt:0.0} s ({recoveredAt - failedAt:0.0} s), then the backend recovered");
                        await WaitUntilAsync(end);
                        break;
                    case Scenario.RedisRestart when redis is not null:
                        await WaitUntilAsync(Ticks(phase.StartSecond + Math.Min(_settings.RedisKillAfterSeconds, phase.Seconds - 2)));
                        await redis.KillAsync();
                        var killedAt = Now();
                        await WaitUntilAsync(Ticks(killedAt + 2));
                        await redis.StartAsync();
                        var restartedAt = Now();
                        phase.Markers.Add((killedAt, "redis killed"));
                        phase.Markers.Add((restartedAt, "restarted"));
                        phase.Notes.Add($"redis-server killed (SIGKILL) at t = {killedAt:0.0} s and started again, empty, on the same port at t = {restartedAt:0.0} s");
                        await WaitUntilAsync(end);
                        break;
                    case Scenario.Autoscale:
                        // The fleet doubles (every new instance cold-starts), then the new half stops; nobody is told the size.
                        await WaitUntilAsync(Ticks(phase.StartSecond + 2));
                        var grownAt = Now();
                        using (var shrink = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
                        {
                            var shrinkAt = phase.StartSecond + (phase.Seconds * 0.6);
                            var grown = new List<Task>();
                            for (var i = 0; i < _settings.Instances; i++)
                            {
                                grown.Add(StartAddedAsync(aws, _settings.Instances + i, Ticks(shrinkAt), shrink.Token));
                            }

                            await WaitUntilAsync(Ticks(shrinkAt));
                            await shrink.CancelAsync();
                            var shrunkAt = Now();
                            try
                            {
                                await Task.WhenAll(grown).WaitAsync(TimeSpan.FromSeconds(30));
                            }
                            catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
                            {
                            }

                            List<Instance> added;
                            lock (_added)
                            {
                                added = [.. _added];
                            }

                            var warm = added.Where(a => a.SecretsReadyAt != 0).Select(a => Seconds(a.SecretsReadyAt) - grownAt).Order().ToList();
                            phase.Markers.Add((grownAt, "fleet doubles"));
                            phase.Markers.Add((shrunkAt, "halves"));
                            phase.Notes.Add($"{added.Count} instances started at t = {grownAt:0.0} s (fleet {_settings.Instances} → {_settings.Instances + added.Count}) and stopped at t = {shrunkAt:0.0} s; none was told the fleet's size" +
                                (L2 ? " (no ShareAcross: the fleet-wide bucket in Redis holds the quota)" : $" (each keeps ShareAcross({_settings.Instances}), the size it was configured with)"));
                            phase.Notes.Add(warm.Count == 0 ? "no added instance held every secret before it stopped"
                                : $"added instances holding every secret: {warm.Count} of {added.Count}; median {warm[warm.Count / 2]:0.00} s, slowest {warm[^1]:0.00} s after the fleet doubled");
                            AutoscaleWarmSeconds = warm.Count == added.Count && warm.Count > 0 ? warm[^1] : double.NaN;
                        }

                        await WaitUntilAsync(end);
                        break;
                    default:
                        await WaitUntilAsync(end);
                        break;
                }
            }

            // The last phase ends here: callers go on reading during the miss probe, and those reads belong to no scenario.
            Volatile.Write(ref _current, Shutdown);
            await ProbeMissesAsync();
        }
        finally
        {
            TotalSeconds = Now();
            Volatile.Write(ref _current, Shutdown);
            await stop.CancelAsync();
            try
            {
                await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (Exception ex)
            {
                Console.WriteLine($"  WARNING: an instance did not stop cleanly: {ex.GetType().Name}: {ex.Message}");
            }

            // Let reads still waiting on a fetch finish (bounded) before the providers are disposed.
            for (var i = 0; i < 50 && _instances.Exists(instance => instance.Outstanding > 0); i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }

            await stopPolling.CancelAsync();
            await polling;
            Timeline.Poll(aws.Requests);
            foreach (var instance in _instances.Concat(_added))
            {
                instance.Dispose();
            }

            _finished.Set();
        }
    }

    private const int ProbeCount = 100;

    /// <summary>Reads by instance 0 of secrets no one read before (a miss everywhere: with the L2, a Redis miss, the lease, AWS, the write).</summary>
    public LatencyHistogram ColdMissLatency { get; } = new();

    /// <summary>How long the miss probe waited for the thread-pool queue to drain before it began, and the queue then.</summary>
    public double ProbeSettleSeconds { get; private set; }

    public long ProbeQueueAtStart { get; private set; }

    /// <summary>Probe reads that failed, by exception type and message.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> ProbeFailures { get; } = new();

    /// <summary>Reads by instance 1 of the same secrets just after (an L1 miss; with the L2, a Redis hit; without, AWS again).</summary>
    public LatencyHistogram SecondMissLatency { get; } = new();

    /// <summary>
    /// After the last phase: one read at a time, so each read's latency is its own; each bounded by 5 s. Without the L2 each
    /// instance's bucket holds only its share (50/s at 100 instances), so 100 back-to-back reads would measure the bucket's
    /// pacing, not the miss: each round takes at least two of the slower bucket's refill periods.
    /// </summary>
    private async Task ProbeMissesAsync()
    {
        if (_instances.Count < 2)
        {
            return;
        }

        // A probe right after a saturated phase would time the queue in front of it: wait (at most 30 s) for the pool to drain.
        var settling = Stopwatch.GetTimestamp();
        while (ThreadPool.PendingWorkItemCount > 100 && Stopwatch.GetElapsedTime(settling) < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        ProbeSettleSeconds = Stopwatch.GetElapsedTime(settling).TotalSeconds;
        ProbeQueueAtStart = ThreadPool.PendingWorkItemCount;
        var rates = new[] { _instances[0].SecretsManagerRate, _instances[1].SecretsManagerRate }.Where(r => r > 0).ToArray();
        var round = rates.Length == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(2 / rates.Min());
        for (var i = 0; i < ProbeCount; i++)
        {
            var roundStarted = Stopwatch.GetTimestamp();
            var reference = $"fleet/probe-{i:D3}";
            foreach (var (instance, histogram) in ((Instance, LatencyHistogram)[])[(_instances[0], ColdMissLatency), (_instances[1], SecondMissLatency)])
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await instance.Provider.GetAsync(reference, timeout.Token);
                    histogram.RecordTicks(Stopwatch.GetTimestamp() - started);
                }
                catch (Exception ex)
                {
                    // The library's messages name the problem, never a value.
                    ProbeFailures.AddOrUpdate($"{ex.GetType().Name}: {ex.Message}", 1, (_, n) => n + 1);
                }
            }

            var left = round - Stopwatch.GetElapsedTime(roundStarted);
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left);
            }
        }

        foreach (var (failure, count) in ProbeFailures)
        {
            Console.WriteLine($"  probe reads failed {count} times: {failure}");
        }

        Console.WriteLine($"  miss probe ({ProbeCount} new secrets, after {ProbeSettleSeconds:0.0} s waiting for the thread pool to drain): first read p50 {Report.Ms(ColdMissLatency.Percentile(0.5))}, p99 {Report.Ms(ColdMissLatency.Percentile(0.99))}; second instance p50 {Report.Ms(SecondMissLatency.Percentile(0.5))}, p99 {Report.Ms(SecondMissLatency.Percentile(0.99))}");
    }

    /// <summary>An instance added by the autoscale: made (an L2 one connects first), then run until the fleet halves.</summary>
    private async Task StartAddedAsync(AwsEmulator aws, int index, long serveDeadline, CancellationToken stop)
    {
        await Task.Yield();
        Instance instance;
        try
        {
            instance = await NewInstanceAsync(aws, index, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return; // The fleet halved before this instance was made.
        }

        lock (_added)
        {
            _added.Add(instance);
        }

        await instance.RunAsync(serveDeadline, stop);
    }

    private Task<Instance> NewInstanceAsync(AwsEmulator aws, int index, CancellationToken cancellationToken)
    {
        var bypass = Disabled.HasFlag(Mechanism.SingleFlight) ? Options(aws) : null;
        var options = Options(aws);
        if (!L2)
        {
            return Instance.CreateAsync(this, index, options, (http, _) => Task.FromResult(new SecretProvider(options, http)), bypass, _settings.MaxConnectionsPerServer, cancellationToken);
        }

        // Each instance its own connection (multiplexer), connected and subscribed before it counts as started.
        var redisOptions = RedisOptions(_redis!.Configuration);
        return Instance.CreateAsync(
            this,
            index,
            options,
            (http, token) => RedisSecretProvider.CreateAsync(options, redisOptions, http, cancellationToken: token),
            bypass,
            _settings.MaxConnectionsPerServer,
            cancellationToken);
    }

    private RedisL2Options RedisOptions(string configuration)
    {
        var options = new RedisL2Options
        {
            Configuration = configuration,
            Namespace = "fleet",
            EncryptionKey = _l2Key,
            OperationTimeout = TimeSpan.FromMilliseconds(_settings.RedisOperationTimeoutMs),
            RefreshAheadFraction = _settings.L2RefreshAhead,
        };
        options.FleetRateLimits.SecretsManagerRequestsPerSecond = _settings.SecretsManagerQuota * _settings.RateShare;
        options.FleetRateLimits.SecretsManagerBatchRequestsPerSecond = _settings.BatchQuota * _settings.RateShare;
        options.FleetRateLimits.ParameterStoreRequestsPerSecond = _settings.ParameterStoreQuota * _settings.RateShare;
        options.FleetRateLimits.FallbackFleetSize = _settings.EffectiveFallbackFleetSize;
        if (_settings.LeaseWaitMs > 0)
        {
            options.LeaseWaitTimeout = TimeSpan.FromMilliseconds(_settings.LeaseWaitMs);
        }

        return options;
    }

    private SecretsCacheOptions Options(AwsEmulator aws)
    {
        var options = new SecretsCacheOptions().UseEmulator(aws);
        options.DefaultTtl = TimeSpan.FromSeconds(_settings.TtlSeconds);
        foreach (var parameter in References.Skip(_settings.Secrets))
        {
            options.TtlByReference[parameter] = TimeSpan.FromSeconds(_settings.ParameterTtlSeconds);
        }

        // The fleet's share of each quota, by the library's sizing rule; --rate-share scales the whole fleet's budget. With
        // the L2 no instance is told the fleet's size: the fleet-wide bucket in Redis holds the quota.
        if (!L2)
        {
            options.RateLimits.ShareAcross(
                _settings.Instances,
                _settings.SecretsManagerQuota * _settings.RateShare,
                _settings.BatchQuota * _settings.RateShare,
                _settings.ParameterStoreQuota * _settings.RateShare);
        }

        if (Disabled.HasFlag(Mechanism.RateLimit))
        {
            options.RateLimits.SecretsManagerRequestsPerSecond = 0;
            options.RateLimits.SecretsManagerBatchRequestsPerSecond = 0;
            options.RateLimits.ParameterStoreRequestsPerSecond = 0;
        }
        if (Disabled.HasFlag(Mechanism.Jitter))
        {
            options.TtlJitter = 0;
        }

        if (Disabled.HasFlag(Mechanism.ServeStale))
        {
            options.MaxStaleness = TimeSpan.Zero;
        }

        if (Disabled.HasFlag(Mechanism.CircuitBreaker))
        {
            options.Retry.BreakDuration = TimeSpan.Zero;
        }

        if (Disabled.HasFlag(Mechanism.Backoff))
        {
            // No pause after a failed fetch, and retries as fast and as many as the options allow.
            options.FailureBackoff = TimeSpan.FromMilliseconds(1);
            options.MaxFailureBackoff = TimeSpan.FromMilliseconds(1);
            options.Retry.MaxRetryAttempts = 20;
            options.Retry.MaxThrottlingRetryAttempts = 20;
            options.Retry.BaseDelay = TimeSpan.FromMilliseconds(1);
            options.Retry.MaxDelay = TimeSpan.FromMilliseconds(1);
        }

        return options;
    }

    private void SetQuotas(AwsEmulator aws)
    {
        aws.Faults.SetQuota(SecretsManagerQuotaName, _settings.SecretsManagerQuota, "secretsmanager.GetSecretValue", "secretsmanager.DescribeSecret");
        aws.Faults.SetQuota("BatchGetSecretValue", _settings.BatchQuota, "secretsmanager.BatchGetSecretValue");
        aws.Faults.SetQuota("ParameterStore", _settings.ParameterStoreQuota, "AmazonSSM.GetParameter", "AmazonSSM.GetParameters", "AmazonSSM.GetParametersByPath");
    }

    private void SummarizeDeploy(Phase phase)
    {
        var ready = _instances.Where(i => i.ReadyAt != 0).Select(i => Seconds(i.ReadyAt) - phase.StartSecond).Order().ToList();
        var warmUpFailed = _instances.Count(i => i.WarmUpFailures > 0);
        var secretsReady = _instances.Where(i => i.SecretsReadyAt != 0).Select(i => Seconds(i.SecretsReadyAt) - phase.StartSecond).Order().ToList();
        if (secretsReady.Count > 0)
        {
            phase.Notes.Add($"instances holding every **secret** by the end of the phase: {secretsReady.Count} of {_instances.Count}; median {secretsReady[secretsReady.Count / 2]:0.00} s, " +
                (secretsReady.Count == _instances.Count ? $"**every instance's secrets warm after {secretsReady[^1]:0.00} s**" : $"slowest {secretsReady[^1]:0.00} s"));
        }

        DeploySecretsWarmSeconds = secretsReady.Count == _instances.Count ? secretsReady[^1] : double.NaN;
        phase.Notes.Add($"instances holding every reference (secrets and parameters) by the end of the phase: {ready.Count} of {_instances.Count}");
        if (ready.Count > 0)
        {
            phase.Notes.Add($"time until warm: median {ready[ready.Count / 2]:0.00} s, " +
                (ready.Count == _instances.Count ? $"**every instance warm after {ready[^1]:0.00} s**" : $"slowest warm instance {ready[^1]:0.00} s; {_instances.Count - ready.Count} not warm in {phase.Seconds:0} s"));
        }

        phase.Notes.Add($"instances whose first warm-up call left references unloaded: {warmUpFailed} (they re-read them until loaded, honouring the library's failure backoff)");
        DeployWarmSeconds = ready.Count == _instances.Count ? ready[^1] : double.NaN;
        DeployReady = ready.Count;
    }

    private long _lastOldVersionRead;
    private long _oldVersionReads;

    /// <summary>A caller read the version a rotation replaced.</summary>
    public void OldVersionServed(long now)
    {
        Interlocked.Increment(ref _oldVersionReads);
        long last;
        while (now > (last = Volatile.Read(ref _lastOldVersionRead)) && Interlocked.CompareExchange(ref _lastOldVersionRead, now, last) != last)
        {
        }
    }

    public double DeployWarmSeconds { get; private set; } = double.NaN;

    public double DeploySecretsWarmSeconds { get; private set; } = double.NaN;

    public int DeployReady { get; private set; }

    public double RotationMaxSeconds { get; private set; } = double.NaN;

    public double AutoscaleWarmSeconds { get; private set; } = double.NaN;

    public long RotationMissing { get; private set; }

    public double LastOldVersionSeconds { get; private set; } = double.NaN;

    /// <summary>Reads made after the last phase ended (the miss probe, the shutdown), kept out of every scenario.</summary>
    public CallerStats Shutdown { get; } = new();

    /// <summary>What happened while the fleet was made, before the first phase (the second level's events, mainly).</summary>
    public CallerStats Setup { get; } = new();

    private double _longestProbePass;

    /// <summary>
    /// From the rotation to the phase's end: every <see cref="RotationProbeInterval"/>, every instance is asked what it
    /// would serve for each secret (<see cref="Instance.ProbeRotation"/>), until every instance serves every rotated version.
    /// </summary>
    private async Task ProbeRotationAsync(long until, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(RotationProbeInterval);
        try
        {
            do
            {
                var started = Stopwatch.GetTimestamp();
                var left = 0;
                foreach (var instance in _instances)
                {
                    left += instance.ProbeRotation(RotatedVersions);
                }

                _longestProbePass = Math.Max(_longestProbePass, Stopwatch.GetElapsedTime(started).TotalSeconds);
                if (left == 0)
                {
                    return;
                }
            }
            while (Stopwatch.GetTimestamp() < until && await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private void SummarizeRotation(Phase phase, long rotatedAt)
    {
        // What the target means: per secret, from the first instance that would serve the new version to the last.
        var firstServed = new List<double>();
        long unserved = 0;
        for (var k = 0; k < _settings.Secrets; k++)
        {
            var served = _instances.Select(instance => Volatile.Read(ref instance.ServesRotatedAt[k])).ToList();
            unserved += served.Count(t => t == 0);
            var at = served.Where(t => t != 0).ToList();
            if (at.Count > 0)
            {
                firstServed.Add(Stopwatch.GetElapsedTime(rotatedAt, at.Min()).TotalSeconds);
            }

            RotationSpreads.Add(served.Contains(0) ? double.NaN : Stopwatch.GetElapsedTime(served.Min(), served.Max()).TotalSeconds);
        }

        var spreads = RotationSpreads.Where(d => !double.IsNaN(d)).Order().ToList();
        var probeReads = _instances.Sum(i => i.ProbeCounts.Reads);
        var probeErrors = _instances.Sum(i => i.ProbeCounts.Errors);
        if (spreads.Count > 0)
        {
            phase.Notes.Add(I($"**rotation spread** (per secret, from the first instance that would serve the new version to the last, by a probe of every instance and secret every {RotationProbeInterval.TotalMilliseconds:0} ms), over the {spreads.Count} of {_settings.Secrets} secrets every instance served in the phase: median {spreads[spreads.Count / 2]:0.00} s, p99 {spreads[(int)(spreads.Count * 0.99)]:0.00} s, **max {spreads[^1]:0.00} s**"));
        }

        firstServed.Sort();
        if (firstServed.Count > 0)
        {
            phase.Notes.Add(I($"the first instance to serve a secret's new version did so, after the rotation: median {firstServed[firstServed.Count / 2]:0.00} s, max {firstServed[^1]:0.00} s (the fleet learns of a rotation when a value is next fetched from AWS)"));
        }

        phase.Notes.Add(I($"the probe: {probeReads:N0} reads where an instance held no fresh value ({probeErrors:N0} failed), the rest answered from L1 by TryGetCached; its longest pass over the fleet took {_longestProbePass * 1000:0} ms") +
            (unserved == 0 ? "; every instance served every new version before the phase ended" : I($"; {unserved:N0} (instance, secret) pairs did not serve the new version before the phase ended")));

        // What callers saw: their reads are random, so these include each instance's gap between reads of one secret.
        var delays = new List<double>();
        long missing = 0;
        foreach (var instance in _instances)
        {
            for (var k = 0; k < _settings.Secrets; k++)
            {
                var seen = instance.RotationSeenAt[k];
                if (seen == 0)
                {
                    missing++;
                }
                else
                {
                    delays.Add(Stopwatch.GetElapsedTime(rotatedAt, seen).TotalSeconds);
                }
            }
        }

        delays.Sort();
        var lastOld = Volatile.Read(ref _lastOldVersionRead);
        phase.Notes.Add(lastOld == 0
            ? "no caller read the old version after the rotation"
            : I($"callers read the old version {Volatile.Read(ref _oldVersionReads):N0} times after the rotation; **the last such read was {Stopwatch.GetElapsedTime(rotatedAt, lastOld).TotalSeconds:0.00} s after it** (TTL {_settings.TtlSeconds:0} s: a value is never served fresh for longer)"));
        LastOldVersionSeconds = lastOld == 0 ? 0 : Stopwatch.GetElapsedTime(rotatedAt, lastOld).TotalSeconds;
        RotationMissing = missing;
        if (delays.Count > 0)
        {
            RotationMaxSeconds = delays[^1];
            phase.Notes.Add(I($"callers' first read of the new version after the rotation, over {delays.Count:N0} (instance, secret) pairs: median {delays[delays.Count / 2]:0.00} s, ") +
                I($"p99 {delays[(int)(delays.Count * 0.99)]:0.00} s, max {delays[^1]:0.00} s (includes the wait for a caller's next read of that key; {missing:N0} pairs had none)"));
        }
    }

    private async Task PollAsync(AwsEmulator aws, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            var process = System.Diagnostics.Process.GetCurrentProcess();
            var cpu = process.TotalProcessorTime;
            var wall = Stopwatch.GetTimestamp();
            var tick = 0;
            while (await timer.WaitForNextTickAsync(stop))
            {
                Timeline!.Poll(aws.Requests);
                if (Phases.Count > 0)
                {
                    var phase = Phases[^1];
                    phase.MaxQueued = Math.Max(phase.MaxQueued, ThreadPool.PendingWorkItemCount);
                    phase.MaxLoadAverage = Math.Max(phase.MaxLoadAverage, LoadAverage());
                    if (!ReferenceEquals(phase, _cpuPhase))
                    {
                        _cpuPhase?.ProcessCores = (process.TotalProcessorTime - _cpuAtPhaseStart).TotalSeconds / Math.Max(1e-3, _cpuPhase.Seconds);
                        _cpuPhase = phase;
                        process.Refresh();
                        _cpuAtPhaseStart = process.TotalProcessorTime;
                    }
                }

                if (++tick % 5 == 0)
                {
                    process.Refresh();
                    var used = process.TotalProcessorTime - cpu;
                    var elapsed = Stopwatch.GetElapsedTime(wall);
                    cpu = process.TotalProcessorTime;
                    wall = Stopwatch.GetTimestamp();
                    Console.WriteLine($"  [{Now(),6:0.0} s] cpu {used / elapsed * 100:0}% of one core, thread pool {ThreadPool.ThreadCount} threads / {ThreadPool.PendingWorkItemCount} queued, " +
                        $"reads so far {Current.Reads:N0}, backend requests {aws.Requests.Total:N0}, gen2 GCs {GC.CollectionCount(2)}");
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        if (_cpuPhase is not null)
        {
            using var self = System.Diagnostics.Process.GetCurrentProcess();
            _cpuPhase.ProcessCores = (self.TotalProcessorTime - _cpuAtPhaseStart).TotalSeconds / Math.Max(1e-3, _cpuPhase.Seconds);
        }
    }

    private Phase? _cpuPhase;
    private TimeSpan _cpuAtPhaseStart;

    /// <summary>The machine's one-minute load average (Linux), 0 where unknown.</summary>
    private static double LoadAverage()
    {
        try
        {
            var text = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg") : null;
            return text is null ? 0 : double.Parse(text.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private double Now() => Seconds(Stopwatch.GetTimestamp());

    private double Seconds(long timestamp) => (double)(timestamp - _startTicks) / Stopwatch.Frequency;

    private long Ticks(double second) => _startTicks + (long)(second * Stopwatch.Frequency);

    private static async Task WaitUntilAsync(long timestamp)
    {
        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining);
        }
    }
}

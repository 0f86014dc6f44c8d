using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using SecretsCache.Aws.Endpoints;
using SecretsCache.Composition;
using SecretsCache.Diagnostics;

namespace SecretsCache.Resilience;

/// <summary>Which token bucket a call spends, in its region: BatchGetSecretValue has a quota of its own (100/s), apart from GetSecretValue's.</summary>
internal enum CallBudget
{
    SecretsManager = 0,
    SecretsManagerBatch = 1,
    ParameterStore = 2,
}

/// <summary>
/// What is decided around a call rather than in it: the client-side token buckets and the retry pipeline with its circuit
/// breaker, each per region (AWS's quotas are per account and region, so a region failed over to has a full quota of its
/// own), and whether a chunk of secrets is worth a batch call. The transport asks it for a limiter and a pipeline; it
/// never compares operation names.
/// </summary>
internal sealed class CallPolicy : IDisposable
{
    private readonly SecretsCacheSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RateLimitSettings _rates;
    private Func<CallBudget, ICallLimiter, ICallLimiter>? _replaceLimiter;
    private readonly Random? _random;
    private readonly Action<AwsService, string>? _breakerOpened;
    private readonly ConcurrentDictionary<(CallBudget, string), (ClientRateLimiter Local, ICallLimiter Limiter)> _limiters = new();
    private readonly List<(ClientRateLimiter Local, ICallLimiter Limiter)> _made = [];
    private readonly object _limiterGate = new();
    private readonly ConcurrentDictionary<(AwsService, string), CallPipeline> _pipelines = new();
    private bool _disposed;

    /// <summary>
    /// <paramref name="replaceLimiter"/> is <see cref="SecretsCacheRuntimeHooks.ReplaceLimiter"/>: given a budget and a
    /// region's local token bucket, the limiter to use instead (which may keep the local bucket as its fallback), or the
    /// local bucket. It is asked once per budget and region, when the region is first called; the configured region's
    /// buckets (<see cref="AwsOptions.Region"/>) are made here, so a replacement that fails, fails the construction.
    /// The buckets' phases and the retry jitter come from <paramref name="random"/> (the provider's, which a snapshot restore
    /// seeds again; <see cref="Random.Shared"/> when <see langword="null"/>). <paramref name="breakerOpened"/> is told the
    /// service and region of each breaker that opens.
    /// </summary>
    public CallPolicy(
        SecretsCacheSettings settings,
        TimeProvider time,
        ILogger logger,
        Func<CallBudget, ICallLimiter, ICallLimiter>? replaceLimiter = null,
        Random? random = null,
        Action<AwsService, string>? breakerOpened = null)
    {
        _random = random;
        _breakerOpened = breakerOpened;
        _settings = settings;
        _time = time;
        _logger = logger;
        _rates = settings.RateLimits;
        _replaceLimiter = replaceLimiter;
        if (settings.Aws.Region is { } region)
        {
            try
            {
                foreach (var budget in (ReadOnlySpan<CallBudget>)[CallBudget.SecretsManager, CallBudget.SecretsManagerBatch, CallBudget.ParameterStore])
                {
                    _ = Buckets(budget, region);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }
    }

    /// <summary>The retry and breaker settings of <paramref name="service"/> (its overrides over the shared values).</summary>
    public RetrySettings RetryFor(AwsService service) => _settings.RetryFor(service);

    /// <summary>The limiter every request of <paramref name="budget"/> to <paramref name="region"/> takes a token from (the local bucket unless replaced).</summary>
    public ICallLimiter Limiter(CallBudget budget, string region) => Buckets(budget, region).Limiter;

    /// <summary>The process's own token bucket for <paramref name="budget"/> in <paramref name="region"/>, whether or not it was replaced.</summary>
    public ClientRateLimiter LocalLimiter(CallBudget budget, string region) => Buckets(budget, region).Local;

    /// <summary>
    /// Whether <paramref name="secrets"/> current secrets of <paramref name="region"/> should be read by one
    /// BatchGetSecretValue call rather than one GetSecretValue each: yes when the batch budget has a token now, or when waiting
    /// for one still moves secrets faster than the single-read budget would. A fleet instance's share of the 100/s batch quota
    /// is often far below its share of GetSecretValue's, and then single reads warm it up faster without taking anything from
    /// the batch quota.
    /// </summary>
    public bool PreferBatch(int secrets, string region)
    {
        var batch = Limiter(CallBudget.SecretsManagerBatch, region);
        if (batch.HasTokenNow)
        {
            return true;
        }

        var singles = Limiter(CallBudget.SecretsManager, region).RequestsPerSecond;
        return singles > 0 && batch.RequestsPerSecond * secrets >= singles;
    }

    /// <summary>
    /// One pipeline, so one breaker and one retry quota, per service and region: an outage of one does not stop calls to the
    /// other. Each service's pipeline is built from its own settings (<see cref="RetryOptions.SecretsManager"/>,
    /// <see cref="RetryOptions.ParameterStore"/>).
    /// </summary>
    public CallPipeline Pipeline(AwsService service, string region) =>
        _pipelines.GetOrAdd((service, region), static (key, policy) =>
        {
            // Polly moves an open circuit to half-open only when a call goes through the pipeline, so there is no pre-check.
            var (service, region) = key;
            var name = service == AwsService.SecretsManager ? "Secrets Manager" : "Parameter Store";
            var retry = policy.RetryFor(service);
            return RetryPipelineFactory.Create(
                retry,
                policy._time,
                random: policy._random is { } random ? random.NextDouble : null,
                breakerState: new CircuitBreakerStateProvider(),
                onOpened: () =>
                {
                    Log.CircuitOpened(policy._logger, name, region, retry.BreakDuration.TotalSeconds);
                    policy._breakerOpened?.Invoke(service, region);
                },
                onClosed: () => Log.CircuitClosed(policy._logger, name, region));
        }, this);

    /// <summary>
    /// Gives a policy built without replacement one (a provider composed late, <see cref="SecretsCacheRuntime.Attach"/>): the
    /// limiters made so far are replaced now, those made later when they are made. A request that holds the local bucket
    /// already finishes with it. If a replacement throws, the ones made so far are disposed and nothing changes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The policy has a replacement already.</exception>
    public void ReplaceLimiters(Func<CallBudget, ICallLimiter, ICallLimiter> replace)
    {
        ArgumentNullException.ThrowIfNull(replace);
        lock (_limiterGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_replaceLimiter is not null)
            {
                throw new InvalidOperationException("The limiters were replaced already.");
            }

            var replaced = new List<((CallBudget, string) Key, ClientRateLimiter Local, ICallLimiter Limiter)>(_limiters.Count);
            try
            {
                foreach (var (key, (local, _)) in _limiters)
                {
                    replaced.Add((key, local, replace(key.Item1, local)));
                }
            }
            catch
            {
                foreach (var (_, local, limiter) in replaced)
                {
                    if (!ReferenceEquals(limiter, local))
                    {
                        (limiter as IDisposable)?.Dispose();
                    }
                }

                throw;
            }

            foreach (var (key, local, limiter) in replaced)
            {
                _made[_made.FindIndex(m => ReferenceEquals(m.Local, local))] = (local, limiter);
                _limiters[key] = (local, limiter);
            }

            _replaceLimiter = replace;
        }
    }

    /// <summary>
    /// After a snapshot restore: every local bucket restarts its refills at a fresh random phase (a staggered share starts
    /// empty again). A replacement limiter (a fleet limiter) keeps its own state.
    /// </summary>
    public void RestartPhases()
    {
        List<(ClientRateLimiter Local, ICallLimiter Limiter)> made;
        lock (_limiterGate)
        {
            made = [.. _made];
        }

#pragma warning disable CA5394 // Jitter, not security.
        foreach (var (local, _) in made)
        {
            local.RestartPhase((_random ?? Random.Shared).NextDouble());
        }
#pragma warning restore CA5394
    }

    /// <summary>Disposes the replacements (those that are disposable), then the local buckets they may fall back to.</summary>
    public void Dispose()
    {
        List<(ClientRateLimiter Local, ICallLimiter Limiter)> made;
        lock (_limiterGate)
        {
            _disposed = true;
            made = [.. _made];
            _made.Clear();
        }

        foreach (var (local, limiter) in made)
        {
            if (!ReferenceEquals(limiter, local) && limiter is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }

        foreach (var (local, _) in made)
        {
            local.Dispose();
        }
    }

    /// <summary>
    /// The buckets of <paramref name="budget"/> in <paramref name="region"/>, made on first use. Made under a lock, not by
    /// GetOrAdd, whose losing factory would leave a bucket (and its refill timer) undisposed and ask the replacement twice.
    /// </summary>
    private (ClientRateLimiter Local, ICallLimiter Limiter) Buckets(CallBudget budget, string region)
    {
        if (_limiters.TryGetValue((budget, region), out var buckets))
        {
            return buckets;
        }

        lock (_limiterGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_limiters.TryGetValue((budget, region), out buckets))
            {
                return buckets;
            }

            var local = budget switch
            {
                CallBudget.ParameterStore => new ClientRateLimiter("Parameter Store", _rates.ParameterStoreRequestsPerSecond, _rates, _time, _random),
                CallBudget.SecretsManagerBatch => new ClientRateLimiter("Secrets Manager BatchGetSecretValue", _rates.SecretsManagerBatchRequestsPerSecond, _rates, _time, _random),
                _ => new ClientRateLimiter("Secrets Manager", _rates.SecretsManagerRequestsPerSecond, _rates, _time, _random),
            };
            ICallLimiter limiter;
            try
            {
                limiter = _replaceLimiter?.Invoke(budget, local) ?? local;
            }
            catch
            {
                local.Dispose();
                throw;
            }

            buckets = (local, limiter);
            _made.Add(buckets);
            _limiters[(budget, region)] = buckets;
            return buckets;
        }
    }
}

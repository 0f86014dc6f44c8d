using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using SecretsCache.Aws.Endpoints;
using SecretsCache.Composition;
using SecretsCache.Diagnostics;

namespace SecretsCache.Resilience;

/// <summary>Which token bucket a call spends, in its region: BatchGetSecretValue has a quota of its own (100/s), apart from GetSecretValue's.</summary>
internal enum CallBudget
{
    SecretsManager,
    SecretsManagerBatch,
    ParameterStore,
}

/// <summary>
/// What is decided around a call rather than in it: the client-side token buckets and the retry pipeline with its circuit
/// breaker, each per region (AWS's quotas are per account and region, so a region failed over to has a full quota of its
/// own), and whether a chunk of secrets is worth a batch call. The transport asks it for a limiter and a pipeline; it
/// never compares operation names.
/// </summary>
internal sealed class CallPolicy : IDisposable
{
    private readonly RetrySettings _retry;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RateLimitSettings _rates;
    private readonly ConcurrentDictionary<(CallBudget, string), ClientRateLimiter> _limiters = new();
    private readonly object _limiterGate = new();
    private readonly ConcurrentDictionary<(AwsService, string), ResiliencePipeline> _pipelines = new();
    private bool _disposed;

    public CallPolicy(SecretsCacheSettings settings, TimeProvider time, ILogger logger)
    {
        _retry = settings.Retry;
        _time = time;
        _logger = logger;
        _rates = settings.RateLimits;
    }

    public RetrySettings Retry => _retry;

    /// <summary>
    /// The token bucket of <paramref name="budget"/> in <paramref name="region"/>, made on first use. Made under a lock, not
    /// by GetOrAdd, whose losing factory would leave a bucket (and its refill timer) undisposed.
    /// </summary>
    public ClientRateLimiter Limiter(CallBudget budget, string region)
    {
        if (_limiters.TryGetValue((budget, region), out var limiter))
        {
            return limiter;
        }

        lock (_limiterGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_limiters.TryGetValue((budget, region), out limiter))
            {
                limiter = budget switch
                {
                    CallBudget.ParameterStore => new ClientRateLimiter("Parameter Store", _rates.ParameterStoreRequestsPerSecond, _rates, _time),
                    CallBudget.SecretsManagerBatch => new ClientRateLimiter("Secrets Manager BatchGetSecretValue", _rates.SecretsManagerBatchRequestsPerSecond, _rates, _time),
                    _ => new ClientRateLimiter("Secrets Manager", _rates.SecretsManagerRequestsPerSecond, _rates, _time),
                };
                _limiters[(budget, region)] = limiter;
            }

            return limiter;
        }
    }

    /// <summary>
    /// Whether <paramref name="secrets"/> current secrets should be read by one BatchGetSecretValue call rather than one
    /// GetSecretValue each: yes when the batch budget has a token now, or when waiting for one still moves secrets faster than
    /// the single-read budget would. A fleet instance's share of the 100/s batch quota is often far below its share of
    /// GetSecretValue's, and then single reads warm it up faster without taking anything from the batch quota.
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

    /// <summary>One pipeline, so one breaker, per service and region: an outage of one does not stop calls to the other.</summary>
    public ResiliencePipeline Pipeline(AwsService service, string region) =>
        _pipelines.GetOrAdd((service, region), static (key, policy) =>
        {
            // Polly moves an open circuit to half-open only when a call goes through the pipeline, so there is no pre-check.
            var (service, region) = key;
            var name = service == AwsService.SecretsManager ? "Secrets Manager" : "Parameter Store";
            return RetryPipelineFactory.Create(
                policy._retry,
                policy._time,
                breakerState: new CircuitBreakerStateProvider(),
                onOpened: () => Log.CircuitOpened(policy._logger, name, region, policy._retry.BreakDuration.TotalSeconds),
                onClosed: () => Log.CircuitClosed(policy._logger, name, region));
        }, this);

    public void Dispose()
    {
        lock (_limiterGate)
        {
            _disposed = true;
        }

        foreach (var limiter in _limiters.Values)
        {
            limiter.Dispose();
        }
    }
}

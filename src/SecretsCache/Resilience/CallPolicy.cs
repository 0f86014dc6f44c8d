using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using SecretsCache.Aws.Endpoints;
using SecretsCache.Composition;
using SecretsCache.Diagnostics;

namespace SecretsCache.Resilience;

/// <summary>Which token bucket a call spends: BatchGetSecretValue has a quota of its own (100/s), apart from GetSecretValue's.</summary>
internal enum CallBudget
{
    SecretsManager,
    SecretsManagerBatch,
    ParameterStore,
}

/// <summary>
/// What is decided around a call rather than in it: the client-side token buckets, the retry pipeline with its circuit
/// breaker per service and region, and whether a chunk of secrets is worth a batch call. The transport asks it for a
/// limiter and a pipeline; it never compares operation names.
/// </summary>
internal sealed class CallPolicy : IDisposable
{
    private readonly RetrySettings _retry;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ClientRateLimiter _secretsManager;
    private readonly ClientRateLimiter _parameterStore;
    private readonly ClientRateLimiter _batch;
    private readonly ConcurrentDictionary<(AwsService, string), ResiliencePipeline> _pipelines = new();

    public CallPolicy(SecretsCacheSettings settings, TimeProvider time, ILogger logger)
    {
        _retry = settings.Retry;
        _time = time;
        _logger = logger;
        var rates = settings.RateLimits;
        _secretsManager = new ClientRateLimiter("Secrets Manager", rates.SecretsManagerRequestsPerSecond, rates, time);
        _parameterStore = new ClientRateLimiter("Parameter Store", rates.ParameterStoreRequestsPerSecond, rates, time);
        _batch = new ClientRateLimiter("Secrets Manager BatchGetSecretValue", rates.SecretsManagerBatchRequestsPerSecond, rates, time);
    }

    public RetrySettings Retry => _retry;

    public ClientRateLimiter Limiter(CallBudget budget) => budget switch
    {
        CallBudget.ParameterStore => _parameterStore,
        CallBudget.SecretsManagerBatch => _batch,
        _ => _secretsManager,
    };

    /// <summary>
    /// Whether <paramref name="secrets"/> current secrets should be read by one BatchGetSecretValue call rather than one
    /// GetSecretValue each: yes when the batch budget has a token now, or when waiting for one still moves secrets faster than
    /// the single-read budget would. A fleet instance's share of the 100/s batch quota is often far below its share of
    /// GetSecretValue's, and then single reads warm it up faster without taking anything from the batch quota.
    /// </summary>
    public bool PreferBatch(int secrets)
    {
        if (_batch.HasTokenNow)
        {
            return true;
        }

        var singles = _secretsManager.RequestsPerSecond;
        return singles > 0 && _batch.RequestsPerSecond * secrets >= singles;
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
        _secretsManager.Dispose();
        _parameterStore.Dispose();
        _batch.Dispose();
    }
}

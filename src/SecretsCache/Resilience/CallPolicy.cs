using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using SecretsCache.Aws.Endpoints;
using SecretsCache.Composition;
using SecretsCache.Diagnostics;

namespace SecretsCache.Resilience;

/// <summary>Which token bucket a call spends: BatchGetSecretValue has a quota of its own (100/s), apart from GetSecretValue's.</summary>
/// <remarks>The values index the policy's limiters: keep them 0, 1, 2.</remarks>
internal enum CallBudget
{
    SecretsManager = 0,
    SecretsManagerBatch = 1,
    ParameterStore = 2,
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
    private readonly ClientRateLimiter[] _local;
    private readonly ICallLimiter[] _limiters;
    private readonly ConcurrentDictionary<(AwsService, string), CallPipeline> _pipelines = new();

    /// <summary>
    /// <paramref name="replaceLimiter"/> is <see cref="SecretsCacheRuntimeHooks.ReplaceLimiter"/>: given a budget and its
    /// local token bucket, the limiter to use instead (which may keep the local bucket as its fallback), or the local bucket.
    /// </summary>
    public CallPolicy(SecretsCacheSettings settings, TimeProvider time, ILogger logger, Func<CallBudget, ICallLimiter, ICallLimiter>? replaceLimiter = null)
    {
        _retry = settings.Retry;
        _time = time;
        _logger = logger;
        var rates = settings.RateLimits;
        _local =
        [
            new ClientRateLimiter("Secrets Manager", rates.SecretsManagerRequestsPerSecond, rates, time),
            new ClientRateLimiter("Secrets Manager BatchGetSecretValue", rates.SecretsManagerBatchRequestsPerSecond, rates, time),
            new ClientRateLimiter("Parameter Store", rates.ParameterStoreRequestsPerSecond, rates, time),
        ];
        _limiters = new ICallLimiter[_local.Length];
        try
        {
            for (var i = 0; i < _local.Length; i++)
            {
                _limiters[i] = replaceLimiter?.Invoke((CallBudget)i, _local[i]) ?? _local[i];
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public RetrySettings Retry => _retry;

    /// <summary>The limiter every request of <paramref name="budget"/> takes a token from (the local bucket unless replaced).</summary>
    public ICallLimiter Limiter(CallBudget budget) => _limiters[(int)budget];

    /// <summary>The process's own token bucket for <paramref name="budget"/>, whether or not it was replaced.</summary>
    public ClientRateLimiter LocalLimiter(CallBudget budget) => _local[(int)budget];

    /// <summary>
    /// Whether <paramref name="secrets"/> current secrets should be read by one BatchGetSecretValue call rather than one
    /// GetSecretValue each: yes when the batch budget has a token now, or when waiting for one still moves secrets faster than
    /// the single-read budget would. A fleet instance's share of the 100/s batch quota is often far below its share of
    /// GetSecretValue's, and then single reads warm it up faster without taking anything from the batch quota.
    /// </summary>
    public bool PreferBatch(int secrets)
    {
        var batch = Limiter(CallBudget.SecretsManagerBatch);
        if (batch.HasTokenNow)
        {
            return true;
        }

        var singles = Limiter(CallBudget.SecretsManager).RequestsPerSecond;
        return singles > 0 && batch.RequestsPerSecond * secrets >= singles;
    }

    /// <summary>One pipeline, so one breaker, per service and region: an outage of one does not stop calls to the other.</summary>
    public CallPipeline Pipeline(AwsService service, string region) =>
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

    /// <summary>Disposes the replacements (those that are disposable), then the local buckets they may fall back to.</summary>
    public void Dispose()
    {
        foreach (var limiter in _limiters)
        {
            // Null when the constructor failed part-way.
            if (limiter is IDisposable disposable && Array.IndexOf(_local, limiter as ClientRateLimiter) < 0)
            {
                disposable.Dispose();
            }
        }

        foreach (var local in _local)
        {
            local.Dispose();
        }
    }
}

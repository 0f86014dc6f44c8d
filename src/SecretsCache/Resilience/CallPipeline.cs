using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace SecretsCache.Resilience;

/// <summary>
/// One call's resilience, outermost first: the <see cref="RetryBudget"/> (<see cref="RetryOptions.TotalTimeout"/>, paused
/// while waiting for a rate-limit token), the retries, the <see cref="RateLimitStage"/> (a token per attempt), the circuit
/// breaker, the attempt. The budget is ours, not Polly's timeout strategy, because Polly's cannot be paused.
/// </summary>
internal sealed class CallPipeline(ResiliencePipeline pipeline, TimeSpan totalTimeout, TimeProvider time, CircuitBreakerStateProvider? breaker = null)
{
    /// <summary>
    /// False while the breaker is open, half-open or isolated (a pipeline without a breaker is always closed). Polly moves an
    /// open circuit on only when a call goes through, so after the break it reads open until the next call probes.
    /// </summary>
    public bool BreakerClosed => breaker is null || breaker.CircuitState == CircuitState.Closed;

    /// <summary>
    /// Runs <paramref name="attempt"/> through the pipeline; with a <paramref name="limiter"/>, every attempt takes a token
    /// from it. With <paramref name="failsOver"/> (another region follows), an outage ends the call instead of being retried.
    /// </summary>
    /// <exception cref="TimeoutRejectedException">The retry budget ran out (<see cref="RetryPipelineFactory.IsBudgetExhausted"/>).</exception>
    public async ValueTask<TResult> ExecuteAsync<TResult, TState>(
        Func<ResilienceContext, TState, ValueTask<TResult>> attempt, TState state, ICallLimiter? limiter, string? reference, CancellationToken cancellationToken, bool failsOver = false)
    {
        using var budget = new RetryBudget(totalTimeout, time, cancellationToken);
        var context = ResilienceContextPool.Shared.Get(budget.Token);
        try
        {
            context.Properties.Set(RetryPipelineFactory.FailsOver, failsOver);
            if (limiter is not null)
            {
                RateLimitStage.Attach(context, limiter, budget, reference);
            }

            return await pipeline.ExecuteAsync(attempt, context, state).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (budget.Spent && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutRejectedException($"The retry budget of {totalTimeout.TotalSeconds:0.###} s was spent.", totalTimeout, ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Runs <paramref name="attempt"/> within the budget and retries, without a rate limit.</summary>
    public ValueTask<TResult> ExecuteAsync<TResult>(Func<CancellationToken, ValueTask<TResult>> attempt, CancellationToken cancellationToken = default) =>
        ExecuteAsync(static (context, attempt) => attempt(context.CancellationToken), attempt, limiter: null, reference: null, cancellationToken);
}

using Polly;

namespace SecretsCache.Resilience;

/// <summary>
/// The rate-limit wait as a stage of the retry pipeline, between the retries and the breaker: every attempt takes a token
/// from the call's limiter (<see cref="CallPolicy.Limiter"/>) before it is sent, with the call's <see cref="RetryBudget"/>
/// paused while it waits. The call's limiter and budget travel in the <see cref="ResilienceContext"/>, not in mutable
/// call state; a pipeline run without them (tests of the retry schedule alone) sends without waiting.
/// </summary>
internal sealed class RateLimitStage : ResilienceStrategy
{
    private static readonly ResiliencePropertyKey<CallTokens> TokensKey = new("SecretsCache.CallTokens");

    /// <summary>Sets what the stage needs for one call.</summary>
    public static void Attach(ResilienceContext context, ICallLimiter limiter, RetryBudget budget, string? reference) =>
        context.Properties.Set(TokensKey, new CallTokens(limiter, budget, reference));

    /// <summary>
    /// Takes one token for a request sent inside an attempt (the clock-skew re-send: not a retry, but a request AWS counts),
    /// as the stage does for each attempt.
    /// </summary>
    public static ValueTask TakeTokenAsync(ResilienceContext context) =>
        context.Properties.TryGetValue(TokensKey, out var tokens) ? tokens.TakeAsync(context.CancellationToken) : default;

    protected override async ValueTask<Outcome<TResult>> ExecuteCore<TResult, TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
    {
        try
        {
            await TakeTokenAsync(context).ConfigureAwait(context.ContinueOnCapturedContext);
        }
#pragma warning disable CA1031 // A strategy returns its failure as an outcome, never throws it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Outcome.FromException<TResult>(ex);
        }

        return await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
    }

    private sealed record CallTokens(ICallLimiter Limiter, RetryBudget Budget, string? Reference)
    {
        public async ValueTask TakeAsync(CancellationToken cancellationToken)
        {
            Budget.Pause();
            try
            {
                await Limiter.AcquireAsync(Reference, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Budget.Resume();
            }
        }
    }
}

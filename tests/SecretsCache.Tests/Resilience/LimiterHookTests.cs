using Microsoft.Extensions.Logging.Abstractions;
using SecretsCache.Composition;
using SecretsCache.Resilience;
using SecretsCache.Tests.Fakes;

namespace SecretsCache.Tests.Resilience;

/// <summary>
/// <see cref="SecretsCacheRuntimeHooks.ReplaceLimiter"/>: a package built on the core (the Redis fleet limiter) replaces the
/// local token bucket of a budget, keeps the local bucket as its fallback, and is what <see cref="CallPolicy.PreferBatch"/> asks.
/// </summary>
public sealed class LimiterHookTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Each_budget_is_offered_its_local_bucket_and_the_replacement_is_the_limiter_in_force()
    {
        var settings = Settings(sm: 40, batch: 2, ssm: 10);
        var offered = new Dictionary<CallBudget, ICallLimiter>();
        using var policy = new CallPolicy(settings, _time, NullLogger.Instance, (budget, local) =>
        {
            offered.Add(budget, local);
            return budget == CallBudget.ParameterStore ? local : new RecordingLimiter(local);
        });

        Assert.Equal([CallBudget.SecretsManager, CallBudget.SecretsManagerBatch, CallBudget.ParameterStore], offered.Keys.Order());
        Assert.Equal(40, offered[CallBudget.SecretsManager].RequestsPerSecond);
        Assert.Equal(2, offered[CallBudget.SecretsManagerBatch].RequestsPerSecond);
        Assert.Equal(10, offered[CallBudget.ParameterStore].RequestsPerSecond);
        foreach (var budget in offered.Keys)
        {
            Assert.Same(offered[budget], policy.LocalLimiter(budget, "eu-west-1"));
        }

        Assert.Same(offered[CallBudget.SecretsManager], Assert.IsType<RecordingLimiter>(policy.Limiter(CallBudget.SecretsManager, "eu-west-1")).Fallback);
        Assert.Same(offered[CallBudget.SecretsManagerBatch], Assert.IsType<RecordingLimiter>(policy.Limiter(CallBudget.SecretsManagerBatch, "eu-west-1")).Fallback);
        Assert.Same(offered[CallBudget.ParameterStore], policy.Limiter(CallBudget.ParameterStore, "eu-west-1"));
    }

    [Fact]
    public void PreferBatch_asks_the_replacements_for_a_token_now_and_for_their_rates_not_the_local_buckets()
    {
        // The local buckets would say: the batch bucket is full (a token now), so batch.
        var limiters = new Dictionary<CallBudget, RecordingLimiter>();
        using var policy = new CallPolicy(Settings(sm: 40, batch: 2, ssm: 10), _time, NullLogger.Instance, (budget, local) =>
            limiters[budget] = new RecordingLimiter(local) { HasToken = false, Rate = budget == CallBudget.SecretsManager ? 50 : 1 });

        // No batch token now, and 1/s x 20 secrets < 50/s single reads: single reads.
        Assert.False(policy.PreferBatch(20, "eu-west-1"));
        Assert.True(limiters[CallBudget.SecretsManagerBatch].TokenQuestions > 0);

        // 1/s x 50 secrets >= 50/s: waiting for the batch token still moves secrets faster.
        Assert.True(policy.PreferBatch(50, "eu-west-1"));

        limiters[CallBudget.SecretsManagerBatch].HasToken = true;
        Assert.True(policy.PreferBatch(2, "eu-west-1"));
    }

    [Fact]
    public async Task A_replacement_may_fall_back_to_the_local_bucket_which_still_enforces_its_rate()
    {
        var settings = Settings(sm: 1, batch: 1, ssm: 1, behavior: RateLimitBehavior.FailFast);
        using var policy = new CallPolicy(settings, _time, NullLogger.Instance, (_, local) => new RecordingLimiter(local) { UseFallback = true });
        var limiter = (RecordingLimiter)policy.Limiter(CallBudget.SecretsManager, "eu-west-1");

        await limiter.AcquireAsync("sm:a", CancellationToken.None); // the local bucket's one token
        var refused = await Assert.ThrowsAsync<SecretThrottledException>(() => limiter.AcquireAsync("sm:a", CancellationToken.None).AsTask());

        Assert.Equal(RetryPipelineFactory.ClientRateLimited, refused.ErrorCode);
        Assert.Equal(2, limiter.Acquired);
    }

    [Fact]
    public void Disposing_the_policy_disposes_each_replacement_before_the_local_bucket_it_falls_back_to()
    {
        var order = new List<string>();
        var policy = new CallPolicy(Settings(sm: 5, batch: 5, ssm: 5), _time, NullLogger.Instance, (budget, local) =>
            new RecordingLimiter(local) { OnDispose = () => order.Add($"{budget} (local {(local.HasTokenNow ? "alive" : "gone")})") });

        policy.Dispose();

        Assert.Equal(["SecretsManager (local alive)", "SecretsManagerBatch (local alive)", "ParameterStore (local alive)"], order);
        Assert.Throws<ObjectDisposedException>(() => policy.LocalLimiter(CallBudget.SecretsManager, "eu-west-1").AcquireAsync(null, CancellationToken.None).AsTask().GetAwaiter().GetResult());
    }

    [Fact]
    public void A_factory_that_throws_leaves_no_bucket_behind()
    {
        var made = new List<ICallLimiter>();
        var error = Assert.Throws<InvalidOperationException>(() => new CallPolicy(Settings(sm: 5, batch: 5, ssm: 5), _time, NullLogger.Instance, (budget, local) =>
        {
            made.Add(local);
            return budget == CallBudget.SecretsManagerBatch ? throw new InvalidOperationException("no fleet") : new RecordingLimiter(local);
        }));

        Assert.Equal("no fleet", error.Message);
        Assert.Equal(2, made.Count);
        Assert.All(made, local => Assert.Throws<ObjectDisposedException>(() => ((ClientRateLimiter)local).AcquireAsync(null, CancellationToken.None).AsTask().GetAwaiter().GetResult()));
    }

    private static SecretsCacheSettings Settings(double sm, double batch, double ssm, RateLimitBehavior behavior = RateLimitBehavior.Wait) =>
        SecretsCacheSettings.From(new SecretsCacheOptions
        {
            Aws = { Region = "eu-west-1" },
            RateLimits =
            {
                SecretsManagerRequestsPerSecond = sm,
                SecretsManagerBatchRequestsPerSecond = batch,
                ParameterStoreRequestsPerSecond = ssm,
                BurstSeconds = 1,
                Behavior = behavior,
            },
        });
}

/// <summary>A replacement limiter that records what is asked of it; it grants every request unless told to use its fallback.</summary>
internal sealed class RecordingLimiter(ICallLimiter fallback) : ICallLimiter, IDisposable
{
    private int _acquired;
    private int _tokenQuestions;

    public ICallLimiter Fallback { get; } = fallback;

    public bool UseFallback { get; init; }

    public bool HasToken { get; set; } = true;

    public double Rate { get; init; } = 1_000;

    public Action? OnDispose { get; init; }

    public int Acquired => Volatile.Read(ref _acquired);

    public int TokenQuestions => Volatile.Read(ref _tokenQuestions);

    public double RequestsPerSecond => Rate;

    public bool HasTokenNow
    {
        get
        {
            Interlocked.Increment(ref _tokenQuestions);
            return HasToken;
        }
    }

    public ValueTask AcquireAsync(string? reference, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _acquired);
        return UseFallback ? Fallback.AcquireAsync(reference, cancellationToken) : ValueTask.CompletedTask;
    }

    public void Dispose() => OnDispose?.Invoke();
}

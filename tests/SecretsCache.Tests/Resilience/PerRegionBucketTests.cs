using SecretsCache.Composition;
using SecretsCache.Resilience;
using SecretsCache.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace SecretsCache.Tests.Resilience;

/// <summary>AWS's quotas are per region, so each region has its own token buckets: failing over spends the replica's, not the primary's.</summary>
public sealed class PerRegionBucketTests
{
    private readonly FakeTimeProvider _clock = new();

    private CallPolicy Policy(double secretsManagerPerSecond = 10, double batchPerSecond = 10)
    {
        var options = new SecretsCacheOptions();
        options.RateLimits.Behavior = RateLimitBehavior.FailFast;
        options.RateLimits.SecretsManagerRequestsPerSecond = secretsManagerPerSecond; // burst 0.1 s: one token
        options.RateLimits.SecretsManagerBatchRequestsPerSecond = batchPerSecond;
        return new CallPolicy(SecretsCacheSettings.From(options), _clock, NullLogger.Instance);
    }

    [Fact]
    public async Task Spending_one_regions_tokens_leaves_another_regions_full()
    {
        using var policy = Policy();
        var primary = policy.Limiter(CallBudget.SecretsManager, "us-east-1");
        await primary.AcquireAsync("sm:a", CancellationToken.None);

        Assert.False(primary.HasTokenNow);
        await Assert.ThrowsAsync<SecretThrottledException>(() => primary.AcquireAsync("sm:a", CancellationToken.None).AsTask());

        var replica = policy.Limiter(CallBudget.SecretsManager, "eu-west-1");
        Assert.True(replica.HasTokenNow);
        await replica.AcquireAsync("sm:a", CancellationToken.None); // the replica's own quota, untouched by the primary's
        Assert.False(replica.HasTokenNow);
    }

    [Fact]
    public void A_region_has_one_bucket_per_budget_and_keeps_it()
    {
        using var policy = Policy();

        Assert.Same(policy.Limiter(CallBudget.SecretsManager, "us-east-1"), policy.Limiter(CallBudget.SecretsManager, "us-east-1"));
        Assert.NotSame(policy.Limiter(CallBudget.SecretsManager, "us-east-1"), policy.Limiter(CallBudget.SecretsManagerBatch, "us-east-1"));
        Assert.NotSame(policy.Limiter(CallBudget.ParameterStore, "us-east-1"), policy.Limiter(CallBudget.ParameterStore, "eu-west-1"));
        Assert.Equal(10, policy.Limiter(CallBudget.SecretsManager, "eu-west-1").RequestsPerSecond); // each region: the full configured rate
    }

    [Fact]
    public async Task Concurrent_first_uses_of_a_region_share_one_bucket()
    {
        for (var round = 0; round < 20; round++)
        {
            using var policy = Policy();
            using var start = new Barrier(8);
            var seen = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait(TimeSpan.FromSeconds(30));
                return policy.Limiter(CallBudget.SecretsManager, "ap-south-1");
            })));

            Assert.All(seen, limiter => Assert.Same(seen[0], limiter));
        }
    }

    [Fact]
    public async Task The_batch_decision_reads_the_regions_own_budget()
    {
        using var policy = Policy(secretsManagerPerSecond: 1_000, batchPerSecond: 10);
        await policy.Limiter(CallBudget.SecretsManagerBatch, "us-east-1").AcquireAsync(null, CancellationToken.None);

        Assert.False(policy.PreferBatch(2, "us-east-1")); // no batch token now, and 2 × 10/s is below 1,000/s singles
        Assert.True(policy.PreferBatch(2, "eu-west-1"));  // the other region's batch token is unspent
    }

    [Fact]
    public void A_disposed_policy_makes_no_new_buckets()
    {
        var policy = Policy();
        _ = policy.Limiter(CallBudget.SecretsManager, "us-east-1");
        policy.Dispose();

        Assert.Throws<ObjectDisposedException>(() => policy.Limiter(CallBudget.SecretsManager, "eu-west-1"));
    }
}

using SecretsCache.Composition;
using SecretsCache.Resilience;

namespace SecretsCache.Tests.Restore;

/// <summary>
/// The token buckets after a snapshot restore: fleet shares (a burst below one request, so they start empty at a random
/// phase) restart at fresh phases drawn from the re-seeded randomness; two providers from one state had one phase.
/// </summary>
public sealed class TokenPhaseRestoreTests
{
    private const string Region = "eu-west-1";

    [Fact]
    public void Two_providers_from_one_snapshot_state_have_one_token_phase_until_the_hook_and_different_ones_after_it()
    {
        using var first = Create(seed: 7, out var firstTime);
        using var second = Create(seed: 7, out var secondTime);
        var before = (Phases(first), Phases(second));
        Assert.Equal(before.Item1, before.Item2);
        Assert.All(before.Item1, phase => Assert.True(phase > TimeSpan.Zero));

        first.OnSnapshotRestored();
        second.OnSnapshotRestored();

        Assert.NotEqual(Phases(first), Phases(second));
    }

    [Fact]
    public void A_restarted_share_starts_empty_and_gets_its_first_token_at_its_new_phase()
    {
        using var runtime = Create(seed: 7, out var time);
        var bucket = runtime.Client!.Policy.LocalLimiter(CallBudget.ParameterStore, Region);
        time.Advance(bucket.StartDelay + bucket.Period); // the first token has come
        Assert.True(bucket.HasTokenNow);

        runtime.OnSnapshotRestored();

        var phase = bucket.StartDelay;
        Assert.InRange(phase, TimeSpan.Zero, bucket.Period);
        if (phase > TimeSpan.FromMilliseconds(1))
        {
            Assert.False(bucket.HasTokenNow);
            time.Advance(phase - TimeSpan.FromMilliseconds(1));
            Assert.False(bucket.HasTokenNow);
        }

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(bucket.HasTokenNow);
    }

    [Fact]
    public async Task A_bucket_that_is_not_a_share_keeps_its_tokens_and_its_rate_after_the_hook()
    {
        using var runtime = Create(seed: 7, out var time);
        var bucket = runtime.Client!.Policy.LocalLimiter(CallBudget.SecretsManager, Region); // 100/s, burst 10: not staggered
        Assert.False(bucket.Staggered);

        runtime.OnSnapshotRestored();

        for (var i = 0; i < bucket.TokenLimit; i++)
        {
            await bucket.AcquireAsync("sm:x", CancellationToken.None);
        }

        Assert.False(bucket.HasTokenNow);
        time.Advance(bucket.StartDelay + TimeSpan.FromMilliseconds(1));
        Assert.True(bucket.HasTokenNow); // refills resume from the new phase
    }

    private static TimeSpan[] Phases(SecretsCacheRuntime runtime) =>
    [
        runtime.Client!.Policy.LocalLimiter(CallBudget.ParameterStore, Region).StartDelay,
        runtime.Client.Policy.LocalLimiter(CallBudget.SecretsManagerBatch, Region).StartDelay,
    ];

    /// <summary>A provider whose buckets for <see cref="Region"/> are made at construction: Parameter Store and batch shares of a fleet (bursts below one request).</summary>
    private static SecretsCacheRuntime Create(int seed, out FakeTimeProvider time)
    {
        time = new FakeTimeProvider();
        var options = new SecretsCacheOptions();
        options.Aws.Region = Region;
        options.Aws.Credentials = new Amazon.Runtime.BasicAWSCredentials("AKIDEXAMPLE", "secret");
        options.RateLimits.Behavior = RateLimitBehavior.FailFast;
        options.RateLimits.SecretsManagerRequestsPerSecond = 100;
        options.RateLimits.ParameterStoreRequestsPerSecond = 0.5;
        options.RateLimits.SecretsManagerBatchRequestsPerSecond = 0.2;
        return SecretsCacheRuntime.Create(options, httpClient: null, loggerFactory: null, time, meterFactory: null, seeded: new Random(seed));
    }
}

using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.FleetLimit;
using SecretsCache.Redis.Tests.Provider;
using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Redis.Tests.FleetLimit;

/// <summary>
/// A warm-up chooses between one BatchGetSecretValue and one GetSecretValue per secret by the state of the bucket a request
/// would wait in. While the level falls back, that is the share the level waits in: after a re-cut for the observed fleet, a
/// new share, not the provider's first one, which then sits unused and full. Before the fix the choice read that full share,
/// so a warm-up chose the batch and waited in an empty share cut for the batch quota.
/// </summary>
public sealed class FallbackBatchChoiceTests : IAsyncLifetime
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private const string Batch = "secretsmanager.BatchGetSecretValue";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private AwsEmulator _aws = null!;
    private RedisServer _server = null!;
    private FleetProviders _fleet = null!;

    public async Task InitializeAsync() => (_aws, _server, _fleet) = await FleetProviders.StartServersAsync();

    public Task DisposeAsync() => FleetProviders.StopServersAsync(_aws, _server, _fleet);

    [RedisFact]
    public async Task While_falling_back_a_warm_up_reads_singly_when_the_batch_share_it_would_wait_in_is_empty()
    {
        for (var i = 0; i < 5; i++)
        {
            _aws.CreateSecret($"app/s{i}", $"value-{i}");
        }

        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var provider = await _fleet.StartAsync(
            configureRedis: o =>
            {
                o.FleetRateLimits.SecretsManagerBatchRequestsPerSecond = 2;
                o.FleetRateLimits.FallbackGrowthMargin = 4; // re-cut for 1 x 4 instances: 0.45/s, a token every 2.2 s
                o.FleetRateLimits.FallbackFleetSize = 1; // the provider's shares: the whole quota, full
            },
            time: time);
        var level = FleetProviders.LevelOf(provider);
        var batchLimiter = level.FleetLimiter[FleetQuota.SecretsManagerBatch]!;
        var failed = RedisRestartTests.Failed(level);
        await _server.KillAsync();
        await failed.WaitAsync(Bound);

        // The first batch falls back: the share is re-cut for the fleet this instance saw (itself, times the growth margin),
        // and that new share starts empty. The clock is moved on until its token comes.
        var first = await AdvancingAsync(provider.WarmUpAsync(["app/s0", "app/s1"]), time);
        Assert.Equal(2, first.Loaded);
        Assert.Equal(1, _aws.Requests.Count(Batch));
        Assert.True(batchLimiter.FallingBack);
        Assert.NotEqual(1, batchLimiter.FallbackFleetSize); // re-cut
        Assert.False(batchLimiter.FallbackHasTokenNow);

        // The batch share has no token, and waiting for one moves fewer secrets than single reads: three GetSecretValue.
        var singles = _aws.Requests.Count(GetSecretValue);
        var second = await AdvancingAsync(provider.WarmUpAsync(["app/s2", "app/s3", "app/s4"]), time);
        Assert.Equal(3, second.Loaded);
        Assert.Equal(1, _aws.Requests.Count(Batch));
        Assert.Equal(singles + 3, _aws.Requests.Count(GetSecretValue));
    }

    private static Task<T> AdvancingAsync<T>(Task<T> task, FakeTimeProvider time) =>
        Wait.AdvancingAsync(task, time, step: TimeSpan.FromMilliseconds(50), patience: TimeSpan.FromMilliseconds(25), steps: 300, Bound);
}

using SecretsCache.IntegrationTests.Provider.Support;
using SecretsCache.Testing;
using static SecretsCache.IntegrationTests.Provider.Support.MultiRegionAwsFixture;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>
/// Failover to replica secrets (Aws.FailoverRegions) against the multi-region emulator, provider and emulator on one
/// manual clock. Serve-stale is off in these tests (MaxStaleness zero), so a read the failover did not save would reach
/// the caller as an error.
/// </summary>
public sealed class FailoverTests(MultiRegionAwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<MultiRegionAwsFixture>
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private const string BatchGetSecretValue = "secretsmanager.BatchGetSecretValue";
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan RealTimeBound = TimeSpan.FromSeconds(60);

    private readonly MultiRegionAwsFixture _fixture = fixture;

    private SecretProvider Provider(double requestsPerSecond = 1_000, Action<SecretsCacheOptions>? configure = null, params string[] failover)
    {
        var options = Options(o =>
        {
            o.DefaultTtl = Ttl;
            o.MaxStaleness = TimeSpan.Zero; // no stale values: only the failover can keep errors from callers
            o.RateLimits.SecretsManagerRequestsPerSecond = requestsPerSecond;
            o.RateLimits.BurstSeconds = 1;
            foreach (var region in failover.Length == 0 ? [Replica] : failover)
            {
                o.Aws.FailoverRegions.Add(region);
            }

            configure?.Invoke(o);
        });
        return CreateProvider(options, time: _fixture.Clock);
    }

    private List<string> ReplicatedSecrets(string prefix, int count, params string[] regions)
    {
        var names = CreateSecrets(prefix, count);
        foreach (var name in names)
        {
            Aws.ReplicateSecretToRegions(name, regions.Length == 0 ? [Replica] : regions);
        }

        return names;
    }

    /// <summary>Awaits reads that must not wait on the manual clock (the test does not move it meanwhile), bounded in real time.</summary>
    private static async Task<T> Within<T>(Task<T> read) => await read.WaitAsync(RealTimeBound);

    [Fact]
    public async Task A_30_second_primary_outage_while_values_expire_reaches_no_caller_and_traffic_returns_afterwards()
    {
        const int secrets = 20;
        const double limit = 50; // per second and region, on the client and on the emulator alike
        var names = ReplicatedSecrets("outage", secrets);
        foreach (var region in Aws.Regions)
        {
            Aws.Faults.ForRegion(region).SetQuota("sm-" + region, limit, GetSecretValue); // above its quota a region throttles
        }

        var provider = Provider(limit);
        foreach (var name in names)
        {
            Assert.Equal(Primary, (await Within(provider.GetAsync(name).AsTask())).Region);
        }

        // The outage: every request to the primary answers 503 for 30 s of the shared clock, through six expiries.
        Aws.Faults.ForRegion(Primary).FailAll(503);
        var primaryBefore = Aws.Requests.CountInRegion(Primary);
        var errors = 0;
        var reads = 0;
        var servedByReplica = 0;
        string? neverCached = null;
        for (var elapsed = TimeSpan.Zero; elapsed < TimeSpan.FromSeconds(30); elapsed += Step)
        {
            _fixture.Clock.Advance(Step);
            var round = await Within(Task.WhenAll(names.Select(async name =>
            {
                try
                {
                    var secret = await provider.GetAsync(name);
                    return (Ok: secret.GetString() == "v-" + name, secret.Region);
                }
                catch (SecretsCacheException)
                {
                    return (Ok: false, Region: null);
                }
            })));
            reads += round.Length;
            errors += round.Count(r => !r.Ok);
            servedByReplica += round.Count(r => r.Region == Replica);

            if (elapsed == TimeSpan.FromSeconds(12))
            {
                // A secret never read before: it comes from the replica without the clock moving at all, so within
                // one attempt timeout plus the breaker's decision (the breaker is open by now: no attempt at the primary).
                neverCached = ReplicatedSecrets("fresh", 1)[0];
                var before = _fixture.Clock.GetUtcNow();
                var fresh = await Within(provider.GetAsync(neverCached).AsTask());
                Assert.Equal(before, _fixture.Clock.GetUtcNow());
                Assert.Equal(Replica, fresh.Region);
                Assert.Equal("v-" + neverCached, fresh.GetString());
            }
        }

        Assert.Equal(0, errors);
        Assert.Equal(secrets * 120, reads);
        Assert.True(servedByReplica > 0, "no read was served by the replica");
        Assert.NotNull(neverCached);

        // The breaker stopped calling the primary: far fewer requests reached it than the replica answered.
        var primaryDuring = Aws.Requests.CountInRegion(Primary) - primaryBefore;
        var replicaDuring = Aws.Requests.Count(GetSecretValue, Replica);
        Assert.True(primaryDuring * 2 < replicaDuring, $"the primary got {primaryDuring} requests during the outage, the replica {replicaDuring}");

        // No region received more than its rate limit: the emulator's quotas (the same rate) throttled nothing.
        Assert.Equal(0, Aws.Requests.Throttled);

        // After the outage: once the breaker half-opens its probe succeeds, and the next expiry reads only the primary.
        Aws.Faults.ForRegion(Primary).ClearFailures();
        _fixture.Clock.Advance(Defaults.BreakDuration + Ttl);
        await Within(Task.WhenAll(names.Select(name => provider.GetAsync(name).AsTask())));
        _fixture.Clock.Advance(Ttl);
        var replicaBefore = Aws.Requests.Count(GetSecretValue, Replica);
        var primaryAfter = Aws.Requests.Count(GetSecretValue, Primary);
        var back = await Within(Task.WhenAll(names.Select(name => provider.GetAsync(name).AsTask())));

        Assert.All(back, secret => Assert.Equal(Primary, secret.Region));
        Assert.Equal(replicaBefore, Aws.Requests.Count(GetSecretValue, Replica));
        Assert.Equal(primaryAfter + secrets, Aws.Requests.Count(GetSecretValue, Primary));
        Assert.Equal(0, Aws.Requests.Throttled);
    }

    [Fact]
    public async Task A_primary_that_hangs_costs_one_attempt_timeout_then_the_replica_answers()
    {
        var name = ReplicatedSecrets("hang", 1)[0];
        var provider = Provider(configure: o => o.Aws.AttemptTimeout = TimeSpan.FromSeconds(2));
        Aws.Faults.ForRegion(Primary).Latency = TimeSpan.FromHours(1);

        var read = provider.GetAsync(name).AsTask();

        // Once the request waits in the emulator (its hour of latency is on the clock), two seconds is the whole cost.
        Assert.True(SpinWait.SpinUntil(() => _fixture.Clock.TimersDueWithin(TimeSpan.FromHours(1)) > _fixture.Clock.TimersDueWithin(TimeSpan.FromMinutes(59)), RealTimeBound));
        Assert.False(read.IsCompleted);
        _fixture.Clock.Advance(TimeSpan.FromSeconds(2));
        var secret = await Within(read);

        Assert.Equal(Replica, secret.Region);
        Assert.Equal("v-" + name, secret.GetString());
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue, Replica));
    }

    [Theory]
    [InlineData("ResourceNotFoundException", typeof(SecretNotFoundException))]
    [InlineData("AccessDeniedException", typeof(SecretAccessDeniedException))]
    [InlineData("ValidationException", typeof(SecretRequestException))]
    [InlineData("DecryptionFailure", typeof(SecretDecryptionException))]
    public async Task Answers_are_not_outages_and_never_fail_over(string errorCode, Type expected)
    {
        var name = ReplicatedSecrets("answer", 1)[0];
        var provider = Provider();
        Aws.Faults.ForRegion(Primary).FailNextWith(errorCode, 1, GetSecretValue);

        var error = await Assert.ThrowsAnyAsync<SecretsCacheException>(() => Within(provider.GetAsync(name).AsTask()));

        Assert.IsType(expected, error);
        Assert.Equal(0, Aws.Requests.CountInRegion(Replica));
    }

    [Fact]
    public async Task An_arn_is_read_from_the_replica_with_its_region_rewritten()
    {
        var name = SecretName("arn");
        var arn = Aws.CreateSecret(name, "by-arn");
        var replicaArn = Aws.ReplicateSecretToRegions(arn, Replica)[0];
        var provider = Provider();
        Aws.Faults.ForRegion(Primary).FailAll(503);

        var secret = await Within(provider.GetAsync(arn).AsTask());

        Assert.Equal("by-arn", secret.GetString());
        Assert.Equal(Replica, secret.Region);
        Assert.Equal(replicaArn, secret.Arn);
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue, Replica));
    }

    [Fact]
    public async Task Regions_are_tried_in_order_and_an_outage_of_the_first_replica_moves_on()
    {
        var name = ReplicatedSecrets("chain", 1, Replica, SecondReplica)[0];
        var provider = Provider(failover: [Replica, SecondReplica]);
        Aws.Faults.ForRegion(Primary).FailAll(503);
        Aws.Faults.ForRegion(Replica).FailAll(500);

        var secret = await Within(provider.GetAsync(name).AsTask());

        Assert.Equal(SecondReplica, secret.Region);
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue, Primary));
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue, Replica)); // not retried: a region followed it
    }

    [Fact]
    public async Task A_replica_that_refuses_leaves_the_primarys_outage_to_the_caller_not_its_answer()
    {
        var name = ReplicatedSecrets("denied", 1)[0];
        var provider = Provider(configure: o => o.Retry.MaxRetryAttempts = 0);
        Aws.DenyAccess(name, Replica); // the role may not read the replica (no IAM statement for its ARN)
        Aws.Faults.ForRegion(Primary).FailAll(503);

        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => Within(provider.GetAsync(name).AsTask()));

        Assert.True(error.IsTransient); // so a cached value would be served stale, and nothing is cached as denied
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue, Replica));
    }

    [Fact]
    public async Task Warm_up_batches_fail_over_to_the_replica()
    {
        var names = ReplicatedSecrets("batch", 5);
        var provider = Provider();
        Aws.Faults.ForRegion(Primary).FailAll(503);

        var result = await Within(provider.WarmUpAsync(names));

        Assert.True(result.Succeeded, string.Join(", ", result.Failures.Values.Select(e => e.Message)));
        Assert.Equal(5, result.Loaded);
        Assert.Equal(1, Aws.Requests.Count(BatchGetSecretValue, Primary));
        Assert.Equal(1, Aws.Requests.Count(BatchGetSecretValue, Replica));
        Assert.Equal(0, Aws.Requests.Count(GetSecretValue, Replica));
        foreach (var name in names)
        {
            var secret = await Within(provider.GetAsync(name).AsTask()); // a hit
            Assert.Equal(Replica, secret.Region);
        }

        Assert.Equal(0, Aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task A_replica_with_the_same_version_announces_no_change_and_a_new_version_is_announced_once()
    {
        var name = ReplicatedSecrets("version", 1)[0];
        var provider = Provider();
        var changes = new List<SecretChangedEventArgs>();
        provider.SecretChanged += (_, e) =>
        {
            lock (changes)
            {
                changes.Add(e);
            }
        };
        var first = await Within(provider.GetAsync(name).AsTask());
        Aws.Faults.ForRegion(Primary).FailAll(503);

        _fixture.Clock.Advance(Ttl);
        var same = await Within(provider.GetAsync(name).AsTask());
        Assert.Equal(Replica, same.Region);
        Assert.Equal(first.VersionId, same.VersionId);
        Assert.Empty(changes);

        Aws.Faults.ForRegion(Primary).ClearFailures();
        Aws.PutSecretValue(name, "rotated"); // replicates at once (no lag)
        Aws.Faults.ForRegion(Primary).FailAll(503);
        _fixture.Clock.Advance(Ttl);
        var rotated = await Within(provider.GetAsync(name).AsTask());

        Assert.Equal("rotated", rotated.GetString());
        Assert.Equal(Replica, rotated.Region);
        var change = Assert.Single(changes);
        Assert.Equal(first.VersionId, change.OldVersion);
        Assert.Equal(rotated.VersionId, change.NewVersion);
    }

    [Fact]
    public async Task Parameters_never_fail_over()
    {
        var path = ParameterRoot() + "p";
        Aws.PutParameter(path, "primary-only", "String");
        Aws.PutParameter(path, "same-path-elsewhere", "String", region: Replica);
        var provider = Provider(configure: o => o.Retry.MaxRetryAttempts = 0);
        Aws.Faults.ForRegion(Primary).FailAll(503);

        await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => Within(provider.GetAsync("ssm:" + path).AsTask()));

        Assert.Equal(0, Aws.Requests.CountInRegion(Replica));
    }
}

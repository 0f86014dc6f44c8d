using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.IntegrationTests.Provider.Support;
using SecretsCache.Testing;
using static SecretsCache.IntegrationTests.Provider.Support.MultiRegionAwsFixture;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>
/// A reader holding a stale value is answered at once when its instance already knows AWS cannot answer in time: the
/// breaker of the service and region is open, the last attempt there was an outage, or the rate-limit queue is longer
/// than <see cref="SecretsCacheOptions.StaleFallbackTimeout"/>. Against the emulator with faults injected, provider and
/// emulator on one manual clock: "at once" means the read completed before anything moved the clock. No retries
/// (<see cref="RetryOptions.MaxRetryAttempts"/> 0), so each failing read is exactly one attempt.
/// </summary>
public sealed partial class KnownOutageTests(MultiRegionAwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<MultiRegionAwsFixture>
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(2); // under BreakDuration (5 s), for as long as a recorded outage counts
    private static readonly TimeSpan Latency = TimeSpan.FromSeconds(3); // the emulator's wait: no other timer is due at exactly 3 s
    private static readonly TimeSpan RealTimeBound = TimeSpan.FromSeconds(60);

    private readonly MultiRegionAwsFixture _fixture = fixture;

    private SignallingTimeProvider Clock => _fixture.Clock;

    /// <summary>Every request the provider sends, counted as it is sent (the emulator logs one only once it is answered).</summary>
    private CountingHandler Sends { get; } = new();

    private SecretProvider Provider(Action<SecretsCacheOptions>? configure = null) => CreateProvider(Options(o =>
    {
        o.DefaultTtl = Ttl;
        o.Retry.MaxRetryAttempts = 0;
        configure?.Invoke(o);
    }), time: Clock, http: Own(Sends.CreateClient()));

    private static async Task<T> Within<T>(Task<T> task) => await task.WaitAsync(RealTimeBound);

    /// <summary>A read that must have completed without the clock moving.</summary>
    private Secret AtOnce(SecretProvider provider, string name)
    {
        var before = Clock.GetUtcNow();
        var read = provider.GetAsync(name);
        var secret = read.IsCompletedSuccessfully ? read.Result : throw new Xunit.Sdk.XunitException("The read waited: it was not answered at once.");
        Assert.Equal(before, Clock.GetUtcNow());
        return secret;
    }

    /// <summary>Waits (in real time, bounded) until a request sits in the emulator waiting out <see cref="Latency"/>.</summary>
    private void WaitForHeldRequest() =>
        Assert.True(SpinWait.SpinUntil(() => Clock.TimersDueWithin(Latency) > Clock.TimersDueWithin(Latency - TimeSpan.FromMilliseconds(1)), RealTimeBound), "no request reached the emulator");

    private static void WaitUntil(Func<bool> condition, string what) => Assert.True(SpinWait.SpinUntil(condition, RealTimeBound), $"timed out waiting for {what}");

    private static string? HitValue(SecretProvider provider, string name)
    {
        var read = provider.GetAsync(name);
        if (read.IsCompletedSuccessfully)
        {
            return read.Result.GetString();
        }

        _ = read.AsTask().Exception;
        return null;
    }

    [Fact]
    public async Task With_the_breaker_open_a_stale_reader_is_answered_at_once_while_one_refresh_probes_and_recovers_the_value()
    {
        var provider = Provider();
        var held = CreateSecrets("held", 1)[0];
        Assert.Equal("v-" + held, (await Within(provider.GetAsync(held).AsTask())).GetString());

        // Ten failing calls open the breaker of Secrets Manager in the primary region.
        Aws.Faults.ForRegion(Primary).FailAll(503);
        foreach (var cold in CreateSecrets("cold", 10))
        {
            await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => Within(provider.GetAsync(cold).AsTask()));
        }

        var refused = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => Within(provider.GetAsync(SecretName("never")).AsTask()));
        Assert.Equal("CircuitOpen", refused.ErrorCode);

        // Past the TTL and the break: the recorded outage is forgotten (its memory is the break), the breaker still reads
        // open until a call probes it. AWS is back, slowly.
        Aws.Faults.ClearFailures();
        Aws.Faults.ForRegion(Primary).Latency = Latency;
        Aws.PutSecretValue(held, "new");
        Clock.Advance(Defaults.BreakDuration);
        var sent = Sends.Sent;

        Assert.Equal("v-" + held, AtOnce(provider, held).GetString());
        WaitForHeldRequest();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("v-" + held, AtOnce(provider, held).GetString()); // the breaker is half-open: still at once
        }

        Assert.Equal(sent + 1, Sends.Sent); // one refresh, the breaker's probe

        Clock.Advance(Latency);
        WaitUntil(() => HitValue(provider, held) == "new", "the refresh to land");
        Assert.Equal(sent + 1, Sends.Sent);
    }

    [Fact]
    public async Task After_one_outage_attempt_a_stale_reader_is_answered_at_once_while_one_refresh_runs()
    {
        var provider = Provider();
        var held = CreateSecrets("held", 1)[0];
        await Within(provider.GetAsync(held).AsTask());

        // One failing attempt, far from opening the breaker: it is the last attempt, so the instance knows.
        Aws.Faults.ForRegion(Primary).FailAll(503);
        await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => Within(provider.GetAsync(CreateSecrets("cold", 1)[0]).AsTask()));

        Aws.Faults.ClearFailures();
        Aws.Faults.ForRegion(Primary).Latency = Latency;
        Aws.PutSecretValue(held, "new");
        Clock.Advance(Ttl);
        var sent = Sends.Sent;

        Assert.Equal("v-" + held, AtOnce(provider, held).GetString());
        WaitForHeldRequest();
        Assert.Equal("v-" + held, AtOnce(provider, held).GetString());
        Assert.Equal(sent + 1, Sends.Sent);

        Clock.Advance(Latency);
        WaitUntil(() => HitValue(provider, held) == "new", "the refresh to land");
    }

    [Fact]
    public async Task With_the_primary_down_but_a_failover_region_answering_a_stale_reader_waits_for_the_replica()
    {
        var provider = Provider(o =>
        {
            o.Aws.FailoverRegions.Add(Replica);
            o.StaleFallbackTimeout = TimeSpan.FromSeconds(5); // longer than the replica's latency: the replica's answer comes first
        });
        var held = CreateSecrets("held", 1)[0];
        Aws.ReplicateSecretToRegions(held, Replica);
        Assert.Equal(Primary, (await Within(provider.GetAsync(held).AsTask())).Region);

        // The primary fails (recorded), the replica answers (recorded).
        Aws.Faults.ForRegion(Primary).FailAll(503);
        var other = CreateSecrets("other", 1)[0];
        Aws.ReplicateSecretToRegions(other, Replica);
        Assert.Equal(Replica, (await Within(provider.GetAsync(other).AsTask())).Region);

        Aws.Faults.ForRegion(Replica).Latency = Latency;
        Clock.Advance(Ttl);
        var read = provider.GetAsync(held).AsTask();
        WaitForHeldRequest();
        Assert.False(read.IsCompleted); // not short-circuited: the replica can answer

        Clock.Advance(Latency);
        var secret = await Within(read);
        Assert.Equal("v-" + held, secret.GetString());
        Assert.Equal(Replica, secret.Region); // the refresh's answer, not the stale value
        Assert.Equal(Replica, AtOnce(provider, held).Region);
    }

    [Fact]
    public async Task With_the_primary_and_every_failover_region_down_a_stale_reader_is_answered_at_once()
    {
        var provider = Provider(o => o.Aws.FailoverRegions.Add(Replica));
        var held = CreateSecrets("held", 1)[0];
        Aws.ReplicateSecretToRegions(held, Replica);
        await Within(provider.GetAsync(held).AsTask());

        Aws.Faults.FailAll(503);
        var other = CreateSecrets("other", 1)[0];
        Aws.ReplicateSecretToRegions(other, Replica);
        await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => Within(provider.GetAsync(other).AsTask()));

        Clock.Advance(Ttl);
        var secret = AtOnce(provider, held);
        Assert.Equal(Primary, secret.Region); // the stale value
    }

    [Fact]
    public async Task When_the_rate_limit_queue_is_longer_than_StaleFallbackTimeout_a_stale_reader_is_answered_at_once()
    {
        // One request a second, one token: every request beyond the first waits a whole second per request ahead of it.
        var provider = Provider(o =>
        {
            o.RateLimits.SecretsManagerRequestsPerSecond = 1;
            o.RateLimits.BurstSeconds = 1;
        });
        var held = CreateSecrets("held", 1)[0];
        await Within(provider.GetAsync(held).AsTask());
        Aws.PutSecretValue(held, "new");
        Clock.Advance(Ttl); // the bucket refills its one token

        // Three cold reads: the first takes the token, two queue, so the next request would wait about three seconds.
        var sent = Sends.Sent;
        var cold = CreateSecrets("cold", 3).Select(name => provider.GetAsync(name).AsTask()).ToList();
        WaitUntil(() => cold.Count(read => read.IsCompleted) == 1, "the first cold read");
        Assert.Equal(sent + 1, Sends.Sent);

        Assert.Equal("v-" + held, AtOnce(provider, held).GetString());
        Assert.Equal(sent + 1, Sends.Sent); // the refresh queues behind the cold reads

        // The queue drains one a second; the refresh lands last.
        for (var i = 0; i < 10 && HitValue(provider, held) != "new"; i++)
        {
            var before = Sends.Sent;
            Clock.Advance(TimeSpan.FromSeconds(1));
            WaitUntil(() => Sends.Sent > before || HitValue(provider, held) == "new", "the next queued request");
        }

        Assert.Equal("new", HitValue(provider, held));
        foreach (var read in cold)
        {
            Assert.StartsWith("v-", (await Within(read)).GetString());
        }
    }

    [Fact]
    public async Task When_the_refresh_would_wait_for_any_token_a_stale_reader_is_answered_at_once_however_long_StaleFallbackTimeout_is()
    {
        // The queue's estimate counts only what is queued now (not the retries of what is in flight), so it ran short in the
        // fleet benchmark's recovery wave and stale readers waited up to the whole timeout: a stale reader does not wait for
        // its own instance's throttle.
        var provider = Provider(o =>
        {
            o.RateLimits.SecretsManagerRequestsPerSecond = 1;
            o.RateLimits.BurstSeconds = 1;
            o.StaleFallbackTimeout = TimeSpan.FromSeconds(5);
        });
        var held = CreateSecrets("held", 1)[0];
        await Within(provider.GetAsync(held).AsTask());
        Aws.PutSecretValue(held, "new");
        Clock.Advance(Ttl);
        var cold = provider.GetAsync(CreateSecrets("cold", 1)[0]).AsTask(); // takes the token: the next waits a second
        await Within(cold);

        Assert.Equal("v-" + held, AtOnce(provider, held).GetString());

        Clock.Advance(TimeSpan.FromSeconds(1)); // the refresh gets its token
        WaitUntil(() => HitValue(provider, held) == "new", "the refresh to land");
    }

    [Fact]
    public async Task A_cold_reader_during_a_known_outage_waits_for_its_fetch_and_gets_the_answer_or_the_error()
    {
        var provider = Provider();
        Aws.Faults.ForRegion(Primary).FailAll(503);
        await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => Within(provider.GetAsync(CreateSecrets("first", 1)[0]).AsTask()));

        // Still failing: the cold reader gets the error, as before.
        await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => Within(provider.GetAsync(CreateSecrets("second", 1)[0]).AsTask()));

        // Back, slowly: the cold reader waits for the answer (there is nothing stale to give it).
        Aws.Faults.ClearFailures();
        Aws.Faults.ForRegion(Primary).Latency = Latency;
        var name = CreateSecrets("third", 1)[0];
        var read = provider.GetAsync(name).AsTask();
        WaitForHeldRequest();
        Assert.False(read.IsCompleted);
        Clock.Advance(Latency);
        Assert.Equal("v-" + name, (await Within(read)).GetString());
    }
}

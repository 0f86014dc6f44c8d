using static SecretsCache.IntegrationTests.Provider.Support.MultiRegionAwsFixture;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>
/// Readers that began waiting on a refresh before the instance knew of the outage: they get their stale value as soon as
/// an attempt fails as an outage in every region the read may go to, while the refresh's retries go on. Retries are on
/// (backoff of at most 5 ms, the base's), rate limits off (so the only timers are the test's), and
/// <see cref="SecretsCacheOptions.StaleFallbackTimeout"/> longer than anything the clock is moved by, so a reader
/// answered before the clock reaches it was answered by the outage.
/// </summary>
public sealed partial class KnownOutageTests
{
    private static readonly TimeSpan LongFallback = TimeSpan.FromSeconds(10);

    private SecretProvider RetryingProvider(Action<SecretsCacheOptions>? configure = null) => CreateProvider(Options(o =>
    {
        o.DefaultTtl = Ttl;
        o.StaleFallbackTimeout = LongFallback;
        o.RateLimits.SecretsManagerRequestsPerSecond = 0;
        configure?.Invoke(o);
    }), time: Clock, http: Own(Sends.CreateClient()));

    /// <summary>How many requests sit in the emulator waiting out <see cref="Latency"/> (a timer due at exactly that).</summary>
    private int HeldRequests => Clock.TimersDueWithin(Latency) - Clock.TimersDueWithin(Latency - TimeSpan.FromMilliseconds(1));

    /// <summary>Moves the clock to each next timer within <see cref="Latency"/> (a backoff, a held request) until <paramref name="done"/>.</summary>
    private void DriveUntil(Func<bool> done, string what)
    {
        for (var step = 0; step < 40 && !done(); step++)
        {
            WaitUntil(() => done() || Clock.NextTimerDue <= Latency, $"something to wait on the clock before {what}");
            if (!done())
            {
                Clock.Advance(Clock.NextTimerDue!.Value);
            }
        }

        Assert.True(done(), $"not done after 40 steps of the clock: {what}");
    }

    [Fact]
    public async Task A_stale_reader_already_waiting_is_answered_when_the_refresh_fails_its_first_attempt_and_the_retries_recover_the_value()
    {
        var provider = RetryingProvider();
        var held = CreateSecrets("held", 1)[0];
        await Within(provider.GetAsync(held).AsTask());
        Aws.Faults.ForRegion(Primary).FailAll(503);
        Aws.Faults.ForRegion(Primary).Latency = Latency;
        Clock.Advance(Ttl);

        // Nothing is known yet: the reader waits on the refresh, whose first attempt the emulator holds.
        var start = Clock.GetUtcNow();
        var read = provider.GetAsync(held).AsTask();
        WaitForHeldRequest();
        Assert.False(read.IsCompleted);

        Clock.Advance(Latency); // the attempt fails (503); its retry waits on the clock
        Assert.Equal("v-" + held, (await Within(read)).GetString());
        Assert.Equal(start + Latency, Clock.GetUtcNow()); // well before StaleFallbackTimeout

        // The refresh went on: AWS back, its retry lands the new value.
        Aws.Faults.ClearFailures();
        Aws.PutSecretValue(held, "new");
        DriveUntil(() => HitValue(provider, held) == "new", "the refresh to land");
    }

    [Fact]
    public async Task Many_stale_readers_of_many_keys_already_waiting_are_all_answered_when_the_first_attempts_fail()
    {
        const int Keys = 16;
        const int ReadersPerKey = 16;
        var provider = RetryingProvider();
        var names = CreateSecrets("held", Keys);
        foreach (var name in names)
        {
            await Within(provider.GetAsync(name).AsTask());
        }

        Aws.Faults.ForRegion(Primary).FailAll(503);
        Aws.Faults.ForRegion(Primary).Latency = Latency;
        Clock.Advance(Ttl);
        var sent = Sends.Sent;

        // Readers start from many threads at once; each waits (nothing is known), one refresh per key is held.
        var start = Clock.GetUtcNow();
        var reads = await Within(Task.WhenAll(Enumerable.Range(0, Keys * ReadersPerKey).Select(i =>
            Task.Factory.StartNew(() => provider.GetAsync(names[i % Keys]).AsTask(), CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default))));
        WaitUntil(() => HeldRequests == Keys, "one refresh per key to reach the emulator");
        Assert.Equal(sent + Keys, Sends.Sent);
        Assert.DoesNotContain(reads, read => read.IsCompleted);

        Clock.Advance(Latency);
        var secrets = await Within(Task.WhenAll(reads));

        for (var i = 0; i < secrets.Length; i++)
        {
            Assert.Equal("v-" + names[i % Keys], secrets[i].GetString());
        }

        Assert.Equal(start + Latency, Clock.GetUtcNow());
    }

    [Fact]
    public async Task A_cold_reader_waits_for_the_fetch_and_gets_its_typed_error_while_a_stale_reader_beside_it_is_answered()
    {
        var provider = RetryingProvider(o => o.Retry.MaxRetryAttempts = 1);
        var held = CreateSecrets("held", 1)[0];
        var cold = CreateSecrets("cold", 1)[0];
        await Within(provider.GetAsync(held).AsTask());
        Aws.Faults.ForRegion(Primary).FailAll(503);
        Aws.Faults.ForRegion(Primary).Latency = Latency;
        Clock.Advance(Ttl);

        var stale = provider.GetAsync(held).AsTask();
        var nothingHeld = provider.GetAsync(cold).AsTask();
        WaitUntil(() => HeldRequests == 2, "both fetches to reach the emulator");

        Clock.Advance(Latency);
        Assert.Equal("v-" + held, (await Within(stale)).GetString());
        Assert.False(nothingHeld.IsCompleted); // its retry waits on the clock: it has nothing to fall back on

        DriveUntil(() => nothingHeld.IsCompleted, "the cold fetch's outcome");
        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => nothingHeld);
        Assert.Equal("ServiceUnavailable", error.ErrorCode);
    }

    [Fact]
    public async Task A_failing_primary_does_not_answer_a_reader_whose_replica_answers_but_the_replica_failing_too_does()
    {
        var provider = RetryingProvider(o => o.Aws.FailoverRegions.Add(Replica));
        var names = CreateSecrets("held", 2);
        foreach (var name in names)
        {
            Aws.ReplicateSecretToRegions(name, Replica);
            Assert.Equal(Primary, (await Within(provider.GetAsync(name).AsTask())).Region);
        }

        Aws.Faults.ForRegion(Primary).FailAll(503);
        Aws.Faults.ForRegion(Primary).Latency = Latency;
        Aws.Faults.ForRegion(Replica).Latency = Latency;
        Clock.Advance(Ttl);

        // The primary fails while the reader waits; the replica has not failed, so the reader waits for it and gets its answer.
        var replicaAnswers = provider.GetAsync(names[0]).AsTask();
        WaitForHeldRequest();
        Clock.Advance(Latency);
        WaitForHeldRequest(); // failed over: the replica holds it
        Assert.False(replicaAnswers.IsCompleted);
        Clock.Advance(Latency);
        Assert.Equal(Replica, (await Within(replicaAnswers)).Region); // the refresh's answer, not the stale value

        // Now the replica fails too: the next reader is answered stale as soon as the replica's attempt fails.
        Aws.Faults.ForRegion(Replica).FailAll(503);
        var start = Clock.GetUtcNow();
        var bothFail = provider.GetAsync(names[1]).AsTask();
        WaitForHeldRequest();
        Clock.Advance(Latency); // the primary fails; the replica answered last time, so the reader still waits
        WaitForHeldRequest();
        Assert.False(bothFail.IsCompleted);
        Clock.Advance(Latency); // the replica fails: no region left to answer, while its retries go on

        var stale = await Within(bothFail);
        Assert.Equal(Primary, stale.Region);
        Assert.Equal("v-" + names[1], stale.GetString());
        Assert.True(Clock.GetUtcNow() - start < LongFallback);
    }

    [Fact]
    public async Task A_throttled_attempt_is_an_answer_and_answers_no_reader_early_but_a_503_after_it_does()
    {
        var provider = RetryingProvider();
        var held = CreateSecrets("held", 1)[0];
        await Within(provider.GetAsync(held).AsTask());
        Aws.Faults.ForRegion(Primary).Latency = Latency;
        Aws.Faults.ForRegion(Primary).FailNextWith("ThrottlingException"); // HTTP 400: the service answering
        Aws.PutSecretValue(held, "new");
        Clock.Advance(Ttl);

        // Throttled, then retried: the reader waits through it and gets the refreshed value, not the stale one.
        var waits = provider.GetAsync(held).AsTask();
        WaitForHeldRequest();
        Clock.Advance(Latency);
        WaitUntil(() => HeldRequests == 1 || Clock.NextTimerDue <= TimeSpan.FromMilliseconds(5), "the retry after the throttle");
        Assert.False(waits.IsCompleted);
        DriveUntil(() => waits.IsCompleted, "the retry's answer");
        Assert.Equal("new", (await Within(waits)).GetString());

        // Expired again, and now an outage: the reader that waits is answered when the first attempt fails.
        Aws.Faults.ForRegion(Primary).FailAll(503);
        Clock.Advance(Ttl);
        var start = Clock.GetUtcNow();
        var answered = provider.GetAsync(held).AsTask();
        WaitForHeldRequest();
        Clock.Advance(Latency);
        Assert.Equal("new", (await Within(answered)).GetString());
        Assert.Equal(start + Latency, Clock.GetUtcNow());
    }
}

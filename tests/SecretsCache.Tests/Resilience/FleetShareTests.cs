using SecretsCache.Resilience;
using SecretsCache.Tests.Fakes;

namespace SecretsCache.Tests.Resilience;

/// <summary>
/// The sizing rule behind <see cref="RateLimitOptions.ShareAcross"/>, checked by simulating a fleet's buckets, built as
/// <see cref="ClientRateLimiter"/> builds them, on fake clocks: what the fleet sends in each second against the quota.
/// </summary>
public sealed class FleetShareTests
{
    private const double DefaultBurst = 0.1;

    /// <summary>Fleets whose share holds a request of burst or more: their buckets start full, and the bound is hard.</summary>
    public static TheoryData<int, double, double> FullBucketFleets()
    {
        var data = new TheoryData<int, double, double>();
        foreach (var instances in (int[])[1, 2, 7, 50, 100, 500, 550, 1_000, 5_000])
        {
            foreach (var quota in (double[])[4, 10, 40, 100, 550, 5_500, 10_000])
            {
                if (!IsStaggered(instances, quota, DefaultBurst))
                {
                    data.Add(instances, quota, DefaultBurst);
                }
            }
        }

        data.Add(400, 5_500, DefaultBurst); // 12.5/s: 13 refills fit in some second
        data.Add(401, 10_000, DefaultBurst);
        data.Add(476, 5_500, DefaultBurst);
        data.Add(10, 5_500, 1);
        data.Add(3, 40, 1);
        return data;
    }

    [Theory]
    [MemberData(nameof(FullBucketFleets))]
    public async Task A_fleet_deployed_at_once_never_exceeds_the_quota_in_any_second_whatever_the_demand(int instances, double quota, double burstSeconds)
    {
        // The worst case: every instance deployed in one instant (so their refills line up), idle until its bucket is full,
        // then all sending as fast as their buckets allow for a second, started at every millisecond of the refill period.
        // Instances built and driven alike behave alike, so one bucket is simulated and counted for all of them.
        var options = new RateLimitOptions { BurstSeconds = burstSeconds, Behavior = RateLimitBehavior.FailFast }.ShareAcross(instances, quota, quota, quota);
        var clock = new FakeTimeProvider();
        using var limiter = new ClientRateLimiter("Secrets Manager", options.SecretsManagerRequestsPerSecond, options, clock);
        Assert.False(limiter.Staggered);
        var period = (int)limiter.Period.TotalMilliseconds;
        var refillToFull = ((limiter.TokenLimit / limiter.TokensPerPeriod) + 2) * period;
        var perMillisecond = new List<int>();
        for (var phase = 0; phase < period; phase += Math.Max(1, period / 100))
        {
            var idle = refillToFull;
            while ((perMillisecond.Count + idle) % period != phase)
            {
                idle++;
            }

            for (var ms = 0; ms < idle; ms++)
            {
                perMillisecond.Add(0);
                clock.Advance(TimeSpan.FromMilliseconds(1));
            }

            for (var ms = 0; ms < 1_000; ms++)
            {
                perMillisecond.Add(await ClientRateLimiterTests.TakeAllAsync(limiter) * instances);
                clock.Advance(TimeSpan.FromMilliseconds(1));
            }
        }

        var busiest = ClientRateLimiterTests.BusiestSecond(perMillisecond);
        Assert.True(busiest <= quota, $"{instances} instances sent {busiest} in one second against a quota of {quota}");
        Assert.True(busiest >= quota * 0.8, $"{instances} instances used only {busiest} of a quota of {quota} in their busiest second");
    }

    /// <summary>Fleets whose share is below a request of burst: staggered starts, random phases, a statistical bound.</summary>
    public static TheoryData<int, double> StaggeredFleets() => new()
    {
        { 2, 4 },
        { 7, 10 },
        { 50, 40 },
        { 100, 550 },
        { 500, 40 },    // Parameter Store's standard quota
        { 500, 100 },   // BatchGetSecretValue's quota
        { 550, 5_500 },
        { 1_000, 100 },
    };

    [Theory]
    [MemberData(nameof(StaggeredFleets))]
    public void A_fleet_of_staggered_shares_under_steady_demand_exceeds_the_quota_in_almost_no_second(int instances, double quota)
    {
        // Twenty fleets, each deployed at once with its own random phases, every instance asking whenever its bucket allows,
        // for two refill periods (at least ten seconds). The rule leaves three standard deviations of the random arrivals
        // spare (about one second in a few hundred over the quota); a share without that room (quota / instances) would
        // exceed it in a second of every two or three.
        Assert.True(IsStaggered(instances, quota, DefaultBurst));
        var share = new RateLimitOptions().ShareAcross(instances, quota, quota, quota).ParameterStoreRequestsPerSecond;
        var seconds = new List<int>();
        for (var fleet = 0; fleet < 20; fleet++)
        {
            seconds.AddRange(SimulateSteadyFleet(instances, share, new Random(20261123 + fleet)));
        }

        var over = seconds.Count(n => n > quota);
        Assert.True(over <= seconds.Count / 100, $"{over} of {seconds.Count} seconds exceeded the quota of {quota}");
        Assert.True(seconds.Average() >= instances * share * 0.8, $"the fleet averaged {seconds.Average():0.##} a second, sized for {instances * share:0.##}");
        Assert.True(seconds.Average() <= quota, $"the fleet averaged {seconds.Average():0.#} a second over a quota of {quota}");
    }

    /// <summary>Requests per second of a fleet of staggered buckets (one fake clock each: they are separate processes).</summary>
    private static List<int> SimulateSteadyFleet(int instances, double share, Random phases)
    {
        var clocks = new FakeTimeProvider[instances];
        var limiters = new ClientRateLimiter[instances];
        for (var i = 0; i < instances; i++)
        {
            clocks[i] = new FakeTimeProvider();
            limiters[i] = new ClientRateLimiter("Parameter Store", share, new RateLimitOptions { Behavior = RateLimitBehavior.FailFast }, clocks[i], phases);
        }

        try
        {
            // Steps that divide a second and are at most half a period, so no refill finds a bucket still full.
            var period = limiters[0].Period;
            var step = new[] { 1_000, 500, 250, 200, 125, 100, 50, 40, 25, 20, 10, 5, 2, 1 }.First(ms => ms <= period.TotalMilliseconds / 2);
            var duration = Math.Max(10, (int)Math.Ceiling(2 * period.TotalSeconds));
            var perSecond = new List<int>();
            for (var second = 0; second < duration; second++)
            {
                var sent = 0;
                for (var ms = 0; ms < 1_000; ms += step)
                {
                    for (var i = 0; i < instances; i++)
                    {
                        clocks[i].Advance(TimeSpan.FromMilliseconds(step));
                        while (limiters[i].HasTokenNow)
                        {
                            limiters[i].AcquireAsync(null, CancellationToken.None).AsTask().GetAwaiter().GetResult(); // granted at once
                            sent++;
                        }
                    }
                }

                perSecond.Add(sent);
            }

            return perSecond;
        }
        finally
        {
            Array.ForEach(limiters, l => l.Dispose());
        }
    }

    private static bool IsStaggered(int instances, double quota, double burstSeconds)
    {
        var share = new RateLimitOptions { BurstSeconds = burstSeconds }.ShareAcross(instances, quota, quota, quota).ParameterStoreRequestsPerSecond;
        return Math.Floor((share * burstSeconds) + 1e-9) < 1;
    }

    [Fact]
    public void Five_hundred_instances_get_ten_requests_a_second_of_5500_and_a_random_phase_share_of_the_small_quotas()
    {
        var options = new RateLimitOptions().ShareAcross(500);

        Assert.Equal(10, options.SecretsManagerRequestsPerSecond, 9);      // 5,500 / (500 x 1.1)
        Assert.Equal(25.0 / 500, options.ParameterStoreRequestsPerSecond, 9); // 25 + 3 x 5 = 40
        Assert.InRange(options.SecretsManagerBatchRequestsPerSecond * 500, 74, 74.3); // m + 3 sqrt(m) = 100
    }

    [Fact]
    public void One_instance_keeps_a_tenth_for_its_burst()
    {
        var options = new RateLimitOptions().ShareAcross(1, secretsManagerQuota: 10_000);

        Assert.Equal(10_000 / 1.1, options.SecretsManagerRequestsPerSecond, 6);
        Assert.Equal(100 / 1.1, options.SecretsManagerBatchRequestsPerSecond, 6);
        Assert.Equal(40 / 1.1, options.ParameterStoreRequestsPerSecond, 6);
    }

    [Fact]
    public void A_longer_burst_leaves_a_smaller_rate()
    {
        var options = new RateLimitOptions { BurstSeconds = 1 }.ShareAcross(10);

        Assert.Equal(5_500 / 20.0, options.SecretsManagerRequestsPerSecond, 9);
    }

    [Theory]
    [InlineData(0, 5_500)]
    [InlineData(-3, 5_500)]
    [InlineData(10, 0)]
    [InlineData(10, -1)]
    [InlineData(10, double.NaN)]
    [InlineData(10, double.PositiveInfinity)]
    public void Nonsense_sizes_are_refused_and_leave_the_rates_alone(int instances, double quota)
    {
        var options = new RateLimitOptions();

        Assert.Throws<ArgumentOutOfRangeException>(() => options.ShareAcross(instances, quota));
        Assert.Equal(new RateLimitOptions().SecretsManagerRequestsPerSecond, options.SecretsManagerRequestsPerSecond);
    }
}

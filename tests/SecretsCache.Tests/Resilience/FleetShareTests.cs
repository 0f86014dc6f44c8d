using SecretsCache.Resilience;

namespace SecretsCache.Tests.Resilience;

/// <summary>
/// The sizing rule behind <see cref="RateLimitOptions.ShareAcross"/>: whatever the fleet's size, the most a fleet of such
/// processes can send in one second stays within the quota, with each process's bucket built as <see cref="ClientRateLimiter"/> builds it.
/// </summary>
public sealed class FleetShareTests
{
    public static TheoryData<int, double> Fleets()
    {
        var data = new TheoryData<int, double>();
        foreach (var instances in (int[])[1, 2, 7, 50, 100, 500, 550, 1_000, 5_000])
        {
            foreach (var quota in (double[])[4, 10, 40, 100, 550, 5_500, 10_000])
            {
                data.Add(instances, quota);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Fleets))]
    public void A_fleet_sized_by_the_rule_stays_within_the_quota_in_any_one_second(int instances, double quota)
    {
        var options = new RateLimitOptions().ShareAcross(instances, quota, quota, quota);
        var rate = options.ParameterStoreRequestsPerSecond;
        using var limiter = new ClientRateLimiter("Parameter Store", rate, options);

        Assert.True(rate > 0);
        if (!limiter.Staggered)
        {
            // Every bucket starts full and refills at its rate: a second holds at most the burst plus a second's refill.
            var worstSecond = instances * (limiter.TokenLimit + rate);
            Assert.True(worstSecond <= quota * (1 + 1e-9), $"{instances} x ({limiter.TokenLimit} + {rate:0.###}) = {worstSecond:0.#} > {quota}");
        }
        else
        {
            // Staggered starts: arrivals are random, mean m a second; three standard deviations (about sqrt m) still fit.
            var mean = instances * rate;
            Assert.True(mean + (3 * Math.Sqrt(mean)) <= quota * (1 + 1e-9), $"mean {mean:0.##} + 3 sqrt(mean) > {quota}");
        }
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

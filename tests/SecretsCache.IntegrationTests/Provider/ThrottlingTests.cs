using SecretsCache.IntegrationTests.Provider.Support;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>
/// Throttling by the server, backed off the way AWS SDKs' standard retry mode does. The emulator runs on the real clock,
/// so its quota refills in real time: these tests assert counts, never timings.
/// </summary>
public sealed class ThrottlingTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";

    [Fact]
    public async Task Sixty_cold_callers_against_a_quota_of_20_per_second_all_succeed_within_the_default_budget_at_under_3_requests_a_key()
    {
        const int Keys = 60;
        var names = CreateSecrets("cold", Keys);
        Aws.Faults.SetQuota("sm", 20, GetSecretValue);
        var provider = CreateProvider(o =>
        {
            var defaults = new RetryOptions(); // the production schedule, not the base class's quick one
            o.Retry.BaseDelay = defaults.BaseDelay;
            o.Retry.ThrottlingBaseDelay = defaults.ThrottlingBaseDelay;
            o.Retry.MaxDelay = defaults.MaxDelay;
            o.RateLimits.SecretsManagerRequestsPerSecond = 0; // off: the server does the throttling here
        });

        var outcomes = await Task.WhenAll(names.Select(async name =>
        {
            try
            {
                return (Name: name, Value: await provider.GetStringAsync(name), Error: (Exception?)null);
            }
            catch (SecretsCacheException ex)
            {
                return (Name: name, Value: (string?)null, Error: (Exception?)ex);
            }
        }));

        var failed = outcomes.Where(o => o.Error is not null).ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} of {Keys} callers failed, e.g. {failed.FirstOrDefault().Error?.Message}");
        Assert.All(outcomes, o => Assert.Equal("v-" + o.Name, o.Value));
        Assert.True(Aws.Requests.Throttled > 0, "the quota never throttled, so the test proves nothing");
        var requests = Aws.Requests.Count(GetSecretValue);
        Assert.True(requests < 3 * Keys, $"{requests} requests for {Keys} keys");
    }

    [Fact]
    public async Task The_clock_skew_re_send_takes_a_rate_limit_token_like_any_request()
    {
        var name = SecretName("skew-token");
        Aws.CreateSecret(name, "skewed");
        Aws.Faults.ClockSkew = TimeSpan.FromMinutes(20);
        var provider = CreateProvider(o =>
        {
            // One token, the next a minute away, and no waiting: the first request takes it, so the re-signed one finds none.
            o.RateLimits.SecretsManagerRequestsPerSecond = 1.0 / 60;
            o.RateLimits.BurstSeconds = 60;
            o.RateLimits.Behavior = RateLimitBehavior.FailFast;
        });

        var error = await Assert.ThrowsAsync<SecretThrottledException>(() => provider.GetAsync(name).AsTask());

        Assert.Equal("ClientRateLimited", error.ErrorCode);
        Assert.Equal([EmulatorOutcome.AuthFailed], Aws.Requests.Snapshot().Select(r => r.Outcome));
    }
}

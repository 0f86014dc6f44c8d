using SecretsCache.Composition;
using SecretsCache.IntegrationTests.Provider.Support;
using SecretsCache.Resilience;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>
/// A limiter put in place by <see cref="SecretsCacheRuntimeHooks.ReplaceLimiter"/> is asked for a token by every request
/// sent to AWS: the first attempt, each retry and the clock-skew re-send.
/// </summary>
public sealed class LimiterHookTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";

    [Fact]
    public async Task Every_attempt_retries_included_takes_a_token_from_the_replacement()
    {
        var name = SecretName("hook-retries");
        Aws.CreateSecret(name, "v");
        var (provider, limiters) = CreateHookedProvider();
        Aws.Faults.FailNext(2, 503, GetSecretValue);

        Assert.Equal("v", await provider.GetStringAsync(name));

        Assert.Equal(3, Aws.Requests.Count(GetSecretValue));
        Assert.Equal(3, limiters[CallBudget.SecretsManager].Acquired);
        Assert.Equal(0, limiters[CallBudget.ParameterStore].Acquired);
    }

    [Fact]
    public async Task The_clock_skew_re_send_takes_a_token_from_the_replacement()
    {
        var name = SecretName("hook-skew");
        Aws.CreateSecret(name, "skewed");
        var (provider, limiters) = CreateHookedProvider();
        Aws.Faults.ClockSkew = TimeSpan.FromMinutes(20);

        Assert.Equal("skewed", await provider.GetStringAsync(name));

        Assert.Equal([EmulatorOutcome.AuthFailed, EmulatorOutcome.Ok], Aws.Requests.Snapshot().Select(r => r.Outcome));
        Assert.Equal(2, limiters[CallBudget.SecretsManager].Acquired);
    }

    [Fact]
    public async Task Parameter_Store_requests_take_their_tokens_from_the_Parameter_Store_replacement()
    {
        var root = ParameterRoot();
        Aws.PutParameter(root + "a", "pa");
        var (provider, limiters) = CreateHookedProvider();
        Aws.Faults.FailNext(1, 500);

        Assert.Equal("pa", await provider.GetStringAsync("ssm:" + root + "a"));

        Assert.Equal(2, limiters[CallBudget.ParameterStore].Acquired);
        Assert.Equal(0, limiters[CallBudget.SecretsManager].Acquired);
    }

    private (SecretProvider Provider, Dictionary<CallBudget, CountingLimiter> Limiters) CreateHookedProvider()
    {
        var limiters = new Dictionary<CallBudget, CountingLimiter>();
        var hooks = new SecretsCacheRuntimeHooks
        {
            ReplaceLimiter = (budget, local, _) => limiters[budget] = new CountingLimiter(local),
        };
        var runtime = SecretsCacheRuntime.Create(Options(), httpClient: null, loggerFactory: null, timeProvider: null, meterFactory: null, hooks);
        return (Own(new SecretProvider(runtime)), limiters);
    }

    /// <summary>Counts the tokens asked of it and takes each from the local bucket it replaces (its fallback).</summary>
    private sealed class CountingLimiter(ICallLimiter local) : ICallLimiter
    {
        private int _acquired;

        public int Acquired => Volatile.Read(ref _acquired);

        public double RequestsPerSecond => local.RequestsPerSecond;

        public bool HasTokenNow => local.HasTokenNow;

        public ValueTask AcquireAsync(string? reference, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _acquired);
            return local.AcquireAsync(reference, cancellationToken);
        }
    }
}

using SecretsCache.Tests.Support;
using SecretsCache.IntegrationTests.Provider.Support;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>
/// A 2xx that lacks the member its operation promises is a transient MalformedResponse, over real HTTP, for every
/// operation of both services: a cached value is kept and served stale, and nothing is cached as not-found.
/// </summary>
public sealed class MalformedResponseTests : IAsyncLifetime
{
    private static readonly string GoodParameter = $$"""{"Parameter":{{CannedAwsServer.ParameterJson("/app/x", "good", 1)}}}""";
    private static readonly string BetterParameter = $$"""{"Parameter":{{CannedAwsServer.ParameterJson("/app/x", "better", 2)}}}""";
    private static readonly string GoodSecret = CannedAwsServer.SecretValueJson("app/db", "good", "11111111-1111-1111-1111-111111111111");
    private static readonly string BetterSecret = CannedAwsServer.SecretValueJson("app/db", "better", "22222222-2222-2222-2222-222222222222");

    private CannedAwsServer _aws = null!;
    private readonly List<SecretProvider> _providers = [];

    public async Task InitializeAsync() => _aws = await CannedAwsServer.StartAsync();

    public async Task DisposeAsync()
    {
        _providers.ForEach(p => p.Dispose());
        await _aws.DisposeAsync();
    }

    public static TheoryData<string> ParametersWithoutTheirPayload => new()
    {
        "{}",
        """{"__type":"InternalServerError"}""",
        """{"Parameter":null}""",
        """{"Parameter":{"Name":"/app/x","Type":"String","Version":2}}""",
        """{"Parameter":{"Type":"String","Value":"bad","Version":2}}""",
        """{"Parameter":{"Name":"/app/x","Type":"String","Value":"bad"}}""",
    };

    public static TheoryData<string> SecretValuesWithoutTheirPayload => new()
    {
        "{}",
        """{"__type":"InternalServiceError"}""",
        """{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf","Name":"app/db","VersionId":"22222222-2222-2222-2222-222222222222"}""",
        """{"Name":"app/db","SecretString":"bad"}""",
        """{"VersionId":"22222222-2222-2222-2222-222222222222","SecretString":"bad"}""",
    };

    [Theory]
    [MemberData(nameof(ParametersWithoutTheirPayload))]
    public async Task A_GetParameter_success_without_its_parameter_keeps_the_cached_value_and_caches_no_not_found(string malformed) =>
        await KeepsTheCachedValue("ssm:/app/x", "GetParameter", GoodParameter, malformed, BetterParameter);

    [Theory]
    [MemberData(nameof(SecretValuesWithoutTheirPayload))]
    public async Task A_GetSecretValue_success_without_its_value_keeps_the_cached_value_and_caches_no_not_found(string malformed) =>
        await KeepsTheCachedValue("app/db", "GetSecretValue", GoodSecret, malformed, BetterSecret);

    [Theory]
    [MemberData(nameof(ParametersWithoutTheirPayload))]
    public async Task A_GetParameter_success_without_its_parameter_is_a_transient_MalformedResponse(string malformed) =>
        await FailsAsMalformed("ssm:/app/x", "GetParameter", malformed);

    [Theory]
    [MemberData(nameof(SecretValuesWithoutTheirPayload))]
    public async Task A_GetSecretValue_success_without_its_value_is_a_transient_MalformedResponse(string malformed) =>
        await FailsAsMalformed("app/db", "GetSecretValue", malformed);

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"__type":"InternalServiceError"}""")]
    [InlineData("""{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf","Name":"app/db"}""")]
    public async Task A_DescribeSecret_success_without_its_versions_keeps_the_cached_value(string malformed)
    {
        var clock = CannedAwsServer.Clock();
        var provider = Create(clock, o => o.Aws.VersionAwareRefresh = true);
        _aws.Answer = (operation, _) => operation == "GetSecretValue" ? GoodSecret : malformed;
        Assert.Equal("good", await provider.GetStringAsync("app/db"));

        clock.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal("good", await provider.GetStringAsync("app/db"));
        // A stale reader is answered as soon as the attempt fails as an outage, before the refresh records the failure.
        Eventually.True(() => provider.GetHealth() is { Failing: 1, ServingStale: 1 }, "the refresh's failure is recorded");
        Assert.Equal((1, 1), (_aws.Count("DescribeSecret"), _aws.Count("GetSecretValue"))); // no fall-through to a fresh read
    }

    [Fact]
    public async Task A_DescribeSecret_version_without_its_stage_list_is_an_unknown_version_not_a_crash()
    {
        var clock = CannedAwsServer.Clock();
        var provider = Create(clock, o => o.Aws.VersionAwareRefresh = true);
        _aws.Answer = (operation, _) => operation == "GetSecretValue" ? GoodSecret : """{"VersionIdsToStages":{"11111111-1111-1111-1111-111111111111":null}}""";
        Assert.Equal("good", await provider.GetStringAsync("app/db"));

        clock.Advance(TimeSpan.FromMinutes(5));
        _aws.Answer = (operation, _) => operation == "GetSecretValue" ? BetterSecret : """{"VersionIdsToStages":{"11111111-1111-1111-1111-111111111111":null}}""";

        Assert.Equal("better", await provider.GetStringAsync("app/db")); // the stage is unknown: GetSecretValue decides
        Assert.Equal(0, provider.GetHealth().Failing);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"Errors":[]}""")]
    [InlineData("""{"__type":"InternalServiceError"}""")]
    public async Task A_BatchGetSecretValue_success_without_SecretValues_fails_the_batch_as_MalformedResponse(string malformed)
    {
        var provider = Create(CannedAwsServer.Clock());
        _aws.Answer = (operation, _) => operation == "BatchGetSecretValue" ? malformed : GoodSecret;

        var result = await provider.WarmUpAsync(["app/a", "app/b"]);

        Assert.Equal(0, result.Loaded);
        Assert.All(result.Failures.Values, AssertMalformed);
        Assert.Equal(2, result.Failures.Count);
        Assert.Equal(0, _aws.Count("GetSecretValue"));
    }

    [Fact]
    public async Task A_BatchGetSecretValue_entry_without_a_value_fails_that_secret_only()
    {
        var provider = Create(CannedAwsServer.Clock());
        var noValue = """{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:app/a-AbCdEf","Name":"app/a","VersionId":"33333333-3333-3333-3333-333333333333"}""";
        _aws.Answer = (operation, _) => operation == "BatchGetSecretValue"
            ? $$"""{"SecretValues":[{{noValue}},{{CannedAwsServer.SecretValueJson("app/b", "b-value", "44444444-4444-4444-4444-444444444444")}}],"Errors":[]}"""
            : GoodSecret;

        var result = await provider.WarmUpAsync(["app/a", "app/b"]);

        Assert.Equal(1, result.Loaded);
        AssertMalformed(Assert.Single(result.Failures, f => f.Key == "app/a").Value);
        Assert.Equal("b-value", await provider.GetStringAsync("app/b"));
        Assert.Equal(0, _aws.Count("GetSecretValue"));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"__type":"InternalServerError"}""")]
    public async Task A_GetParameters_success_without_Parameters_or_InvalidParameters_fails_the_batch_as_MalformedResponse(string malformed)
    {
        var provider = Create(CannedAwsServer.Clock());
        _aws.Answer = (operation, _) => operation == "GetParameters" ? malformed : GoodParameter;

        var result = await provider.WarmUpAsync(["ssm:/app/a", "ssm:/app/b"]);

        Assert.Equal(0, result.Loaded);
        Assert.Equal(2, result.Failures.Count);
        Assert.All(result.Failures.Values, AssertMalformed);
        Assert.Equal(0, _aws.Count("GetParameter"));
    }

    [Fact]
    public async Task A_GetParameters_entry_without_a_value_fails_that_parameter_only()
    {
        var provider = Create(CannedAwsServer.Clock());
        _aws.Answer = (operation, _) => operation == "GetParameters"
            ? $$"""{"Parameters":[{"Name":"/app/a","Type":"String","Version":1},{{CannedAwsServer.ParameterJson("/app/b", "b-value", 1)}}],"InvalidParameters":[]}"""
            : GoodParameter;

        var result = await provider.WarmUpAsync(["ssm:/app/a", "ssm:/app/b"]);

        Assert.Equal(1, result.Loaded);
        AssertMalformed(Assert.Single(result.Failures, f => f.Key == "ssm:/app/a").Value);
        Assert.Equal("b-value", await provider.GetStringAsync("ssm:/app/b"));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"__type":"InternalServerError"}""")]
    [InlineData("""{"Parameters":[{"Name":"/app/a","Type":"String","Version":1}]}""")]
    [InlineData("""{"Parameters":[{"Type":"String","Value":"bad","Version":1}]}""")]
    public async Task A_GetParametersByPath_success_without_its_parameters_is_a_MalformedResponse(string malformed)
    {
        var provider = Create(CannedAwsServer.Clock());
        _aws.Answer = (_, _) => malformed;

        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => provider.GetPathAsync("/app/"));

        AssertMalformed(error);
        Assert.Equal(0, provider.Count);
    }

    private async Task KeepsTheCachedValue(string reference, string operation, string good, string malformed, string better)
    {
        var clock = CannedAwsServer.Clock();
        var provider = Create(clock, o => o.NegativeTtl = TimeSpan.FromHours(1)); // a cached not-found would outlive the test
        _aws.Answer = (_, _) => good;
        Assert.Equal("good", await provider.GetStringAsync(reference));

        _aws.Answer = (_, _) => malformed;
        clock.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal("good", await provider.GetStringAsync(reference));
        Assert.Equal("good", await provider.GetStringAsync(reference)); // backing off (or joining the refresh): the stale value, without a call
        // A stale reader is answered as soon as the attempt fails as an outage, before the refresh records the failure.
        Eventually.True(() => provider.GetHealth() is { Failing: 1, ServingStale: 1 }, "the refresh's failure is recorded");
        Assert.Equal(2, _aws.Count(operation));

        _aws.Answer = (_, _) => better;
        clock.Advance(TimeSpan.FromMinutes(1)); // past the failure backoff, far inside the negative TTL
        Assert.Equal("better", await provider.GetStringAsync(reference));
    }

    private async Task FailsAsMalformed(string reference, string operation, string malformed)
    {
        var clock = CannedAwsServer.Clock();
        var provider = Create(clock, o => o.NegativeTtl = TimeSpan.FromHours(1));
        _aws.Answer = (_, _) => malformed;

        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => provider.GetAsync(reference).AsTask());

        AssertMalformed(error);
        Assert.Equal(SecretReference.Parse(reference).ToString(), error.Reference);
        Assert.Equal(1, _aws.Count(operation));
        clock.Advance(TimeSpan.FromMinutes(1)); // a transient failure backs off for seconds, not for the negative TTL
        _aws.Answer = (_, _) => reference.StartsWith("ssm:", StringComparison.Ordinal) ? GoodParameter : GoodSecret;
        Assert.Equal("good", await provider.GetStringAsync(reference));
    }

    private static void AssertMalformed(Exception error)
    {
        var malformed = Assert.IsType<SecretServiceUnavailableException>(error);
        Assert.Equal("MalformedResponse", malformed.ErrorCode);
        Assert.True(malformed.IsTransient);
        NoValueLeaks.InException(error, "bad", "good", "b-value");
    }

    private SecretProvider Create(TimeProvider clock, Action<SecretsCacheOptions>? configure = null)
    {
        var provider = new SecretProvider(_aws.Options(configure), timeProvider: clock);
        _providers.Add(provider);
        return provider;
    }
}

using System.Text.Json;
using SecretsCache.IntegrationTests.Provider.Support;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>
/// Batch answers are matched to what was asked only when they cannot be mistaken for one another, whatever their order;
/// answers that cannot be told apart are treated as unanswered and read singly. Over real HTTP, against canned answers.
/// </summary>
public sealed class AmbiguousBatchTests : IAsyncLifetime
{
    private const string Arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";

    private CannedAwsServer _aws = null!;
    private readonly List<SecretProvider> _providers = [];

    public async Task InitializeAsync() => _aws = await CannedAwsServer.StartAsync();

    public async Task DisposeAsync()
    {
        _providers.ForEach(p => p.Dispose());
        await _aws.DisposeAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetParameters_answers_for_a_name_and_its_version_without_Selector_are_read_singly(bool latestFirst)
    {
        var latest = CannedAwsServer.ParameterJson("/app/x", "latest", 2);
        var first = CannedAwsServer.ParameterJson("/app/x", "first", 1);
        _aws.Answer = (operation, input) => operation switch
        {
            "GetParameters" => $$"""{"Parameters":[{{(latestFirst ? latest : first)}},{{(latestFirst ? first : latest)}}],"InvalidParameters":[]}""",
            _ => input.GetProperty("Name").GetString() == "/app/x:1"
                ? $$"""{"Parameter":{{CannedAwsServer.ParameterJson("/app/x", "first", 1, ":1")}}}"""
                : $$"""{"Parameter":{{latest}}}""",
        };
        var provider = Create();

        var result = await provider.WarmUpAsync(["ssm:/app/x", "ssm:/app/x:1"]);

        Assert.True(result.Succeeded);
        var read = await provider.GetAsync("ssm:/app/x");
        Assert.Equal(("latest", 2L), (read.GetString(), read.ParameterVersion));
        Assert.Equal("first", await provider.GetStringAsync("ssm:/app/x:1"));
        Assert.Equal(2, _aws.Count("GetParameter"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetParameters_answers_told_apart_by_Selector_are_used_in_either_order(bool latestFirst)
    {
        var latest = CannedAwsServer.ParameterJson("/app/x", "latest", 2);
        var first = CannedAwsServer.ParameterJson("/app/x", "first", 1, ":1");
        _aws.Answer = (_, _) => $$"""{"Parameters":[{{(latestFirst ? latest : first)}},{{(latestFirst ? first : latest)}}],"InvalidParameters":[]}""";
        var provider = Create();

        var result = await provider.WarmUpAsync(["ssm:/app/x", "ssm:/app/x:1"]);

        Assert.Equal(2, result.Loaded);
        Assert.Equal("latest", await provider.GetStringAsync("ssm:/app/x"));
        Assert.Equal("first", await provider.GetStringAsync("ssm:/app/x:1"));
        Assert.Equal((1, 0), (_aws.Count("GetParameters"), _aws.Count("GetParameter")));
    }

    [Fact]
    public async Task A_GetParameters_answer_without_Selector_is_not_taken_for_the_name_when_the_batch_also_asks_for_a_version()
    {
        // Only one answer, and it may be either one: the :1 version without its Selector, or the latest.
        _aws.Answer = (operation, input) => operation switch
        {
            "GetParameters" => $$"""{"Parameters":[{{CannedAwsServer.ParameterJson("/app/x", "first", 1)}}],"InvalidParameters":[]}""",
            _ => input.GetProperty("Name").GetString() == "/app/x:1"
                ? $$"""{"Parameter":{{CannedAwsServer.ParameterJson("/app/x", "first", 1, ":1")}}}"""
                : $$"""{"Parameter":{{CannedAwsServer.ParameterJson("/app/x", "latest", 2)}}}""",
        };
        var provider = Create();

        await provider.WarmUpAsync(["ssm:/app/x", "ssm:/app/x:1"]);

        Assert.Equal("latest", await provider.GetStringAsync("ssm:/app/x"));
        Assert.Equal("first", await provider.GetStringAsync("ssm:/app/x:1"));
    }

    [Fact]
    public async Task A_GetParameters_name_both_answered_and_listed_invalid_is_read_singly()
    {
        _aws.Answer = (operation, _) => operation == "GetParameters"
            ? $$"""{"Parameters":[{{CannedAwsServer.ParameterJson("/app/a", "stale", 1)}}],"InvalidParameters":["/app/a"]}"""
            : $$"""{"Parameter":{{CannedAwsServer.ParameterJson("/app/a", "single", 3)}}}""";
        var provider = Create();

        await provider.WarmUpAsync(["ssm:/app/a", "ssm:/app/b"]);

        Assert.Equal("single", await provider.GetStringAsync("ssm:/app/a"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BatchGetSecretValue_never_gives_a_partial_ARN_the_value_of_a_secret_whose_name_only_starts_with_it(bool prodFirst)
    {
        var db = CannedAwsServer.SecretValueJson("app/db", "db-value", "11111111-1111-1111-1111-111111111111", "XyZ123");
        var prod = CannedAwsServer.SecretValueJson("app/db-prod", "prod-value", "22222222-2222-2222-2222-222222222222", "AbCdEf");
        _aws.Answer = (operation, input) => operation == "BatchGetSecretValue"
            ? $$"""{"SecretValues":[{{(prodFirst ? prod : db)}},{{(prodFirst ? db : prod)}}],"Errors":[]}"""
            : input.GetProperty("SecretId").GetString()!.Contains("prod", StringComparison.Ordinal) ? prod : db;
        var provider = Create();

        // One region, so one batch: a partial ARN, and the full ARN of a secret whose name begins with the same text.
        var result = await provider.WarmUpAsync([Arn + "app/db", Arn + "app/db-prod-AbCdEf"]);

        Assert.Equal(2, result.Loaded);
        Assert.Equal("db-value", await provider.GetStringAsync(Arn + "app/db"));
        Assert.Equal("prod-value", await provider.GetStringAsync(Arn + "app/db-prod-AbCdEf"));
        Assert.Equal((1, 0), (_aws.Count("BatchGetSecretValue"), _aws.Count("GetSecretValue")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BatchGetSecretValue_with_two_different_answers_for_one_secret_reads_it_singly(bool newerFirst)
    {
        var older = CannedAwsServer.SecretValueJson("app/db", "older", "11111111-1111-1111-1111-111111111111");
        var newer = CannedAwsServer.SecretValueJson("app/db", "newer", "22222222-2222-2222-2222-222222222222");
        _aws.Answer = (operation, _) => operation == "BatchGetSecretValue"
            ? $$"""{"SecretValues":[{{(newerFirst ? newer : older)}},{{(newerFirst ? older : newer)}}],"Errors":[]}"""
            : CannedAwsServer.SecretValueJson("app/db", "single", "33333333-3333-3333-3333-333333333333");
        var provider = Create();

        await provider.WarmUpAsync(["app/db", "app/other"]);

        Assert.Equal("single", await provider.GetStringAsync("app/db"));
        Assert.Equal(1, _aws.Requests.Count(r => r.Target.EndsWith(".GetSecretValue", StringComparison.Ordinal) && SecretId(r.Body) == "app/db"));
    }

    [Fact]
    public async Task One_BatchGetSecretValue_answer_serves_every_spelling_of_its_secret()
    {
        _aws.Answer = (operation, _) => operation == "BatchGetSecretValue"
            ? $$"""{"SecretValues":[{{CannedAwsServer.SecretValueJson("app/db", "db-value", "11111111-1111-1111-1111-111111111111")}}],"Errors":[]}"""
            : "{}";
        var provider = Create();

        var result = await provider.WarmUpAsync([Arn + "app/db", Arn + "app/db-AbCdEf"]); // partial and full ARN, one region

        Assert.Equal(2, result.Loaded);
        Assert.Equal(0, _aws.Count("GetSecretValue"));
    }

    private static string? SecretId(string body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("SecretId").GetString();
    }

    private SecretProvider Create()
    {
        var provider = new SecretProvider(_aws.Options(), timeProvider: CannedAwsServer.Clock());
        _providers.Add(provider);
        return provider;
    }
}

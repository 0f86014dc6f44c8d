using System.Net;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Emulator;

/// <summary>One endpoint, several regions: the SigV4 credential scope chooses whose state answers.</summary>
public sealed class RegionTests
{
    private const string GetSecret = "secretsmanager.GetSecretValue";
    private const string CreateSecret = "secretsmanager.CreateSecret";
    private const string GetParameter = "AmazonSSM.GetParameter";
    private const string PutParameter = "AmazonSSM.PutParameter";
    private const string East = "us-east-1";
    private const string West = "us-west-2";
    private const string Europe = "eu-west-1";

    [Fact]
    public async Task Each_region_has_its_own_secrets_with_its_own_arns()
    {
        await using var session = await StartAsync();
        var client = session.Client;

        var eastArn = session.Emulator.CreateSecret("app/db", "east");
        var westArn = (await client.CallAsync(CreateSecret, new { Name = "app/db", SecretString = "west" }, West)).GetProperty("ARN").GetString();

        Assert.StartsWith("arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-", eastArn, StringComparison.Ordinal);
        Assert.StartsWith("arn:aws:secretsmanager:us-west-2:123456789012:secret:app/db-", westArn, StringComparison.Ordinal);
        Assert.Equal("east", (await client.CallAsync(GetSecret, new { SecretId = "app/db" })).GetProperty("SecretString").GetString());
        Assert.Equal("west", (await client.CallAsync(GetSecret, new { SecretId = "app/db" }, West)).GetProperty("SecretString").GetString());
        await client.FailAsync(GetSecret, new { SecretId = "app/db" }, "ResourceNotFoundException", region: Europe);

        // An ARN of another region does not resolve here.
        await client.FailAsync(GetSecret, new { SecretId = westArn }, "ResourceNotFoundException", region: East);
        Assert.Equal("west", (await client.CallAsync(GetSecret, new { SecretId = westArn }, West)).GetProperty("SecretString").GetString());
    }

    [Fact]
    public async Task Parameters_are_per_region_and_never_replicated()
    {
        await using var session = await StartAsync();
        var client = session.Client;

        session.Emulator.PutParameter("/app/url", "east-url", "String");
        await client.CallAsync(PutParameter, new { Name = "/app/url", Value = "west-url", Type = "String" }, West);
        session.Emulator.PutParameter("/app/url", "east-url-2", "String");

        var east = (await client.CallAsync(GetParameter, new { Name = "/app/url" })).GetProperty("Parameter");
        var west = (await client.CallAsync(GetParameter, new { Name = "/app/url" }, West)).GetProperty("Parameter");
        Assert.Equal(("east-url-2", 2), (east.GetProperty("Value").GetString(), east.GetProperty("Version").GetInt64()));
        Assert.Equal(("west-url", 1), (west.GetProperty("Value").GetString(), west.GetProperty("Version").GetInt64()));
        Assert.Equal("arn:aws:ssm:us-west-2:123456789012:parameter/app/url", west.GetProperty("ARN").GetString());
        await client.FailAsync(GetParameter, new { Name = "/app/url" }, "ParameterNotFound", region: Europe);

        session.Emulator.PutParameter("/only/europe", "e", "String", region: Europe);
        await client.FailAsync(GetParameter, new { Name = "/only/europe" }, "ParameterNotFound");
        Assert.Equal("e", (await client.CallAsync(GetParameter, new { Name = "/only/europe" }, Europe)).GetProperty("Parameter").GetProperty("Value").GetString());
    }

    [Fact]
    public async Task Seeding_writes_to_the_named_region_or_the_region_of_an_arn()
    {
        await using var session = await StartAsync();
        var aws = session.Emulator;

        var westArn = aws.CreateSecret("s", "v1", region: West);
        aws.PutSecretValue(westArn, "v2");
        await session.Client.FailAsync(GetSecret, new { SecretId = "s" }, "ResourceNotFoundException");
        Assert.Equal("v2", (await session.Client.CallAsync(GetSecret, new { SecretId = "s" }, West)).GetProperty("SecretString").GetString());

        Assert.Throws<ArgumentException>(() => aws.CreateSecret("t", "v", region: "ap-south-1"));
        Assert.Throws<ArgumentException>(() => aws.DeleteSecret(westArn, region: Europe));
        Assert.Throws<ArgumentException>(() => aws.DeleteParameter("arn:aws:ssm:us-west-2:123456789012:parameter/p", region: Europe));
        aws.PutParameter("/p", "v", "String", region: West);
        Assert.StartsWith("ParameterNotFound", Assert.Throws<InvalidOperationException>(() => aws.DeleteParameter("/p")).Message, StringComparison.Ordinal);
        aws.DeleteParameter("arn:aws:ssm:us-west-2:123456789012:parameter/p");
        await session.Client.FailAsync(GetParameter, new { Name = "/p" }, "ParameterNotFound", region: West);
    }

    [Fact]
    public async Task A_region_the_emulator_does_not_serve_is_refused_and_logged_with_its_region()
    {
        await using var session = await StartAsync();

        var refused = await session.Client.SendAsync(GetSecret, new { SecretId = "s" }, session.Client.In("ap-south-1"));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("InvalidSignatureException", refused.ErrorType);
        Assert.Contains("Credential should be scoped to a valid region, not 'ap-south-1'", refused.Message, StringComparison.Ordinal);
        Assert.Equal("ap-south-1", Assert.Single(session.Emulator.Requests.Snapshot()).Region);
        Assert.Equal(1, session.Emulator.Requests.CountInRegion("ap-south-1"));
        Assert.Equal(0, session.Emulator.Requests.Count(GetSecret, "ap-south-1")); // a rejection is not counted for its operation
    }

    [Fact]
    public async Task The_request_log_records_the_region_that_answered()
    {
        await using var session = await StartAsync();
        var client = session.Client;
        session.Emulator.CreateSecret("s", "v");
        session.Emulator.CreateSecret("s", "w", region: West);

        await client.CallAsync(GetSecret, new { SecretId = "s" });
        await client.CallAsync(GetSecret, new { SecretId = "s" }, West);
        await client.CallAsync(GetSecret, new { SecretId = "s" }, West);
        await client.FailAsync(GetParameter, new { Name = "/p" }, "ParameterNotFound", region: Europe);
        using var unsigned = new HttpRequestMessage(HttpMethod.Post, session.Emulator.Endpoint) { Content = new StringContent("{}") };
        await client.Http.SendAsync(unsigned);

        var log = session.Emulator.Requests;
        Assert.Equal([East, West, West, Europe, null], log.Snapshot().Select(r => r.Region));
        Assert.Equal((1, 2, 0), (log.Count(GetSecret, East), log.Count(GetSecret, West), log.Count(GetSecret, Europe)));
        Assert.Equal((1, 2, 1), (log.CountInRegion(East), log.CountInRegion(West), log.CountInRegion(Europe)));
        Assert.Equal(1, log.Count(GetParameter, Europe));
        Assert.Equal(3, log.Count(GetSecret));

        log.Reset();
        Assert.Equal(0, log.CountInRegion(West));
        Assert.Equal(0, log.Count(GetSecret, West));
    }

    [Fact]
    public async Task A_single_region_emulator_serves_only_its_region()
    {
        await using var session = await EmulatorSession.StartAsync(new AwsEmulatorOptions { Region = Europe });

        Assert.Equal(Europe, session.Emulator.Region);
        Assert.Equal([Europe], session.Emulator.Regions);
        Assert.Throws<ArgumentException>(() => session.Emulator.Faults.ForRegion(East));
        Assert.Throws<ArgumentException>(() => new SecretsCacheOptions().UseEmulator(session.Emulator, East));
        var refused = await session.Client.SendAsync(GetSecret, new { SecretId = "s" }, session.Client.In(East));
        Assert.Equal("InvalidSignatureException", refused.ErrorType);
    }

    [Fact]
    public async Task Regions_are_listed_default_first_and_must_be_region_codes_of_one_partition()
    {
        await using var session = await StartAsync();
        Assert.Equal([East, West, Europe], session.Emulator.Regions);

        await Assert.ThrowsAsync<ArgumentException>(() => AwsEmulator.StartAsync(new AwsEmulatorOptions { AdditionalRegions = { "not a region" } }));
        await Assert.ThrowsAsync<ArgumentException>(() => AwsEmulator.StartAsync(new AwsEmulatorOptions { AdditionalRegions = { "cn-north-1" } }));
        await using var china = await AwsEmulator.StartAsync(new AwsEmulatorOptions { Region = "cn-north-1", AdditionalRegions = { "cn-northwest-1", "cn-north-1" } });
        Assert.Equal(["cn-north-1", "cn-northwest-1"], china.Regions);
        Assert.StartsWith("arn:aws-cn:secretsmanager:cn-northwest-1:", china.CreateSecret("s", region: "cn-northwest-1"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_provider_pointed_at_a_region_reads_that_regions_state()
    {
        await using var session = await StartAsync();
        session.Emulator.CreateSecret("app/db", "east");
        session.Emulator.CreateSecret("app/db", "west", region: West);

        using var east = new SecretProvider(new SecretsCacheOptions().UseEmulator(session.Emulator));
        using var west = new SecretProvider(new SecretsCacheOptions().UseEmulator(session.Emulator, West));

        Assert.Equal("east", await east.GetStringAsync("app/db"));
        Assert.Equal("west", await west.GetStringAsync("app/db"));
        Assert.Equal(1, session.Emulator.Requests.Count(GetSecret, East));
        Assert.Equal(1, session.Emulator.Requests.Count(GetSecret, West));
    }

    internal static Task<EmulatorSession> StartAsync(TimeProvider? time = null)
    {
        var options = new AwsEmulatorOptions { AdditionalRegions = { West, Europe } };
        if (time is not null)
        {
            options.TimeProvider = time;
        }

        return EmulatorSession.StartAsync(options);
    }
}

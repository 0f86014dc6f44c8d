using System.Text.Json;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Emulator;

public sealed class ParameterStoreTests
{
    private const string Get = "AmazonSSM.GetParameter";

    [Fact]
    public async Task GetParameter_returns_the_model_shape()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.PutParameter("/app/url", "https://x", "String");

        var parameter = (await session.Client.CallAsync(Get, new { Name = "/app/url" })).GetProperty("Parameter");

        Assert.Equal("/app/url", parameter.GetProperty("Name").GetString());
        Assert.Equal("String", parameter.GetProperty("Type").GetString());
        Assert.Equal("https://x", parameter.GetProperty("Value").GetString());
        Assert.Equal(1, parameter.GetProperty("Version").GetInt64());
        Assert.Equal("arn:aws:ssm:us-east-1:123456789012:parameter/app/url", parameter.GetProperty("ARN").GetString());
        Assert.Equal("text", parameter.GetProperty("DataType").GetString());
        Assert.Equal(JsonValueKind.Number, parameter.GetProperty("LastModifiedDate").ValueKind);
        Assert.False(parameter.TryGetProperty("Selector", out _));
    }

    [Fact]
    public async Task SecureString_is_decrypted_only_on_request()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.PutParameter("/app/password", "hunter2");

        var plain = (await session.Client.CallAsync(Get, new { Name = "/app/password", WithDecryption = true })).GetProperty("Parameter");
        var cipher = (await session.Client.CallAsync(Get, new { Name = "/app/password" })).GetProperty("Parameter");
        var again = (await session.Client.CallAsync(Get, new { Name = "/app/password", WithDecryption = false })).GetProperty("Parameter");

        Assert.Equal("SecureString", plain.GetProperty("Type").GetString());
        Assert.Equal("hunter2", plain.GetProperty("Value").GetString());
        var opaque = cipher.GetProperty("Value").GetString()!;
        Assert.DoesNotContain("hunter2", opaque, StringComparison.Ordinal);
        Assert.True(Convert.FromBase64String(opaque).Length > 100);
        Assert.Equal(opaque, again.GetProperty("Value").GetString());
    }

    [Fact]
    public async Task Names_may_be_given_as_arns_and_plain_names_get_a_slash_in_the_arn()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.PutParameter("/app/x", "1", "String");
        session.Emulator.PutParameter("flat", "2", "String");

        var byArn = (await session.Client.CallAsync(Get, new { Name = "arn:aws:ssm:us-east-1:123456789012:parameter/app/x" })).GetProperty("Parameter");
        var flat = (await session.Client.CallAsync(Get, new { Name = "arn:aws:ssm:us-east-1:123456789012:parameter/flat" })).GetProperty("Parameter");

        Assert.Equal("/app/x", byArn.GetProperty("Name").GetString());
        Assert.Equal("flat", flat.GetProperty("Name").GetString());
        Assert.Equal("arn:aws:ssm:us-east-1:123456789012:parameter/flat", flat.GetProperty("ARN").GetString());
    }

    [Fact]
    public async Task Versions_labels_and_selectors()
    {
        await using var session = await EmulatorSession.StartAsync();
        Assert.Equal(1, session.Emulator.PutParameter("/cfg", "one", "String"));
        Assert.Equal(2, session.Emulator.PutParameter("/cfg", "two", "String"));
        Assert.Equal(3, session.Emulator.PutParameter("/cfg", "three", "String"));
        session.Emulator.LabelParameterVersion("/cfg", 1, "stable");

        var labelled = await session.Client.CallAsync("AmazonSSM.LabelParameterVersion", new { Name = "/cfg", ParameterVersion = 2, Labels = new[] { "canary", "aws-reserved", "1bad" } });
        Assert.Equal(2, labelled.GetProperty("ParameterVersion").GetInt64());
        Assert.Equal(["aws-reserved", "1bad"], labelled.GetProperty("InvalidLabels").EnumerateArray().Select(l => l.GetString()));

        var byVersion = (await session.Client.CallAsync(Get, new { Name = "/cfg:1" })).GetProperty("Parameter");
        var byLabel = (await session.Client.CallAsync(Get, new { Name = "/cfg:canary" })).GetProperty("Parameter");
        Assert.Equal("one", byVersion.GetProperty("Value").GetString());
        Assert.Equal(":1", byVersion.GetProperty("Selector").GetString());
        Assert.Equal("/cfg", byVersion.GetProperty("Name").GetString());
        Assert.Equal("two", byLabel.GetProperty("Value").GetString());
        Assert.Equal(":canary", byLabel.GetProperty("Selector").GetString());

        // A label moves: it names one version at a time.
        await session.Client.CallAsync("AmazonSSM.LabelParameterVersion", new { Name = "/cfg", Labels = new[] { "stable" } });
        Assert.Equal("three", (await session.Client.CallAsync(Get, new { Name = "/cfg:stable" })).GetProperty("Parameter").GetProperty("Value").GetString());

        await session.Client.FailAsync(Get, new { Name = "/cfg:9" }, "ParameterVersionNotFound");
        await session.Client.FailAsync(Get, new { Name = "/cfg:nolabel" }, "ParameterVersionNotFound");
        await session.Client.FailAsync("AmazonSSM.LabelParameterVersion", new { Name = "/cfg", ParameterVersion = 9, Labels = new[] { "x" } }, "ParameterVersionNotFound");
        await session.Client.FailAsync("AmazonSSM.LabelParameterVersion", new { Name = "/none", Labels = new[] { "x" } }, "ParameterNotFound");
        Assert.Throws<ArgumentException>(() => session.Emulator.LabelParameterVersion("/cfg", 1, "ssm-no"));
    }

    [Fact]
    public async Task A_version_holds_at_most_ten_labels()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.PutParameter("/l", "v", "String");
        session.Emulator.LabelParameterVersion("/l", 1, Enumerable.Range(0, 10).Select(i => $"l{i}").ToArray());

        await session.Client.FailAsync("AmazonSSM.LabelParameterVersion", new { Name = "/l", ParameterVersion = 1, Labels = new[] { "eleventh" } }, "ParameterVersionLabelLimitExceeded");
    }

    [Fact]
    public async Task GetParameters_reports_unknown_names_without_failing()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.PutParameter("/a", "1", "String");
        session.Emulator.PutParameter("/b", "2");

        var result = await session.Client.CallAsync("AmazonSSM.GetParameters", new { Names = new[] { "/a", "/missing", "/b", "/a:7" }, WithDecryption = true });

        Assert.Equal(["1", "2"], result.GetProperty("Parameters").EnumerateArray().Select(p => p.GetProperty("Value").GetString()));
        Assert.Equal(["/missing", "/a:7"], result.GetProperty("InvalidParameters").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task GetParametersByPath_pages_and_recurses()
    {
        await using var session = await EmulatorSession.StartAsync();
        for (var i = 0; i < 12; i++)
        {
            session.Emulator.PutParameter($"/svc/p{i:D2}", $"v{i}", "String");
        }

        session.Emulator.PutParameter("/svc/deep/x", "deep", "String");
        session.Emulator.PutParameter("/svc/deep/more/y", "deeper", "String");
        session.Emulator.PutParameter("/other/z", "no", "String");

        var direct = await ReadAllAsync(session.Client, new { Path = "/svc", MaxResults = 5 });
        var recursive = await ReadAllAsync(session.Client, new { Path = "/svc/", Recursive = true });
        var deep = await ReadAllAsync(session.Client, new { Path = "/svc/deep", Recursive = false });

        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"/svc/p{i:D2}"), direct.Names);
        Assert.Equal(3, direct.Pages);
        Assert.Equal(14, recursive.Names.Count);
        Assert.Contains("/svc/deep/more/y", recursive.Names);
        Assert.Equal(["/svc/deep/x"], deep.Names);
        await session.Client.FailAsync("AmazonSSM.GetParametersByPath", new { Path = "/svc", NextToken = "bogus" }, "InvalidNextToken");
    }

    [Fact]
    public async Task GetParametersByPath_decrypts_and_filters()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.PutParameter("/f/secure", "s");
        session.Emulator.PutParameter("/f/plain", "p", "String");

        var secure = await session.Client.CallAsync("AmazonSSM.GetParametersByPath", new
        {
            Path = "/f",
            WithDecryption = true,
            ParameterFilters = new[] { new { Key = "Type", Option = "Equals", Values = new[] { "SecureString" } } },
        });
        var opaque = await session.Client.CallAsync("AmazonSSM.GetParametersByPath", new { Path = "/f" });

        Assert.Equal(["s"], secure.GetProperty("Parameters").EnumerateArray().Select(p => p.GetProperty("Value").GetString()));
        Assert.NotEqual("s", opaque.GetProperty("Parameters").EnumerateArray().Single(p => p.GetProperty("Name").GetString() == "/f/secure").GetProperty("Value").GetString());
        await session.Client.FailAsync("AmazonSSM.GetParametersByPath", new { Path = "/f", ParameterFilters = new[] { new { Key = "Name" } } }, "InvalidFilterKey");
    }

    [Fact]
    public async Task PutParameter_overwrite_rules_and_name_rules()
    {
        await using var session = await EmulatorSession.StartAsync();
        var client = session.Client;

        var first = await client.CallAsync("AmazonSSM.PutParameter", new { Name = "/p", Value = "1", Type = "String" });
        var exists = await client.FailAsync("AmazonSSM.PutParameter", new { Name = "/p", Value = "2", Type = "String" }, "ParameterAlreadyExists");
        var second = await client.CallAsync("AmazonSSM.PutParameter", new { Name = "/p", Value = "2", Overwrite = true });
        var list = await client.CallAsync("AmazonSSM.PutParameter", new { Name = "/list", Value = "a,b", Type = "StringList" });

        Assert.Equal(1, first.GetProperty("Version").GetInt64());
        Assert.Equal("Standard", first.GetProperty("Tier").GetString());
        Assert.Equal("The parameter already exists. To overwrite this value, set the overwrite option in the request to true.", exists.Message);
        Assert.Equal(2, second.GetProperty("Version").GetInt64());
        Assert.Equal("String", (await client.CallAsync(Get, new { Name = "/p" })).GetProperty("Parameter").GetProperty("Type").GetString());
        Assert.Equal("a,b", (await client.CallAsync(Get, new { Name = "/list" })).GetProperty("Parameter").GetProperty("Value").GetString());
        Assert.Equal(1, list.GetProperty("Version").GetInt64());

        await client.FailAsync("AmazonSSM.PutParameter", new { Name = "/aws/mine", Value = "x", Type = "String" }, "ValidationException");
        await client.FailAsync("AmazonSSM.PutParameter", new { Name = "no/slash", Value = "x", Type = "String" }, "ValidationException");
        await client.FailAsync("AmazonSSM.PutParameter", new { Name = "/bad name", Value = "x", Type = "String" }, "ValidationException");
        await client.FailAsync("AmazonSSM.PutParameter", new { Name = "/big", Value = new string('x', 4097), Type = "String" }, "ValidationException");
        var advanced = await client.CallAsync("AmazonSSM.PutParameter", new { Name = "/big", Value = new string('x', 4097), Type = "String", Tier = "Advanced" });
        Assert.Equal("Advanced", advanced.GetProperty("Tier").GetString());
        await client.FailAsync("AmazonSSM.PutParameter", new { Name = "/deep" + string.Concat(Enumerable.Repeat("/l", 15)), Value = "x", Type = "String" }, "HierarchyLevelLimitExceededException");
    }

    [Fact]
    public async Task DeleteParameter_removes_every_version()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.PutParameter("/gone", "1");
        session.Emulator.PutParameter("/gone", "2");

        await session.Client.CallAsync("AmazonSSM.DeleteParameter", new { Name = "/gone" });

        var missing = await session.Client.FailAsync(Get, new { Name = "/gone" }, "ParameterNotFound");
        await session.Client.FailAsync(Get, new { Name = "/gone:1" }, "ParameterNotFound");
        var again = await session.Client.FailAsync("AmazonSSM.DeleteParameter", new { Name = "/gone" }, "ParameterNotFound");
        Assert.Null(missing.Message);
        Assert.Equal("Parameter /gone not found.", again.Message);
        Assert.Equal(1, session.Emulator.PutParameter("/gone", "new"));
    }

    [Fact]
    public async Task DenyAccess_and_FailDecryption()
    {
        await using var session = await EmulatorSession.StartAsync();
        session.Emulator.PutParameter("/denied", "x");
        session.Emulator.PutParameter("/locked", "x");
        session.Emulator.PutParameter("/plain", "x", "String");
        session.Emulator.DenyAccess("arn:aws:ssm:us-east-1:123456789012:parameter/denied");
        session.Emulator.FailDecryption("/locked");
        session.Emulator.FailDecryption("/plain");

        var denied = await session.Client.FailAsync(Get, new { Name = "/denied" }, "AccessDeniedException");
        await session.Client.FailAsync("AmazonSSM.GetParameters", new { Names = new[] { "/plain", "/denied" } }, "AccessDeniedException");
        var locked = await session.Client.FailAsync(Get, new { Name = "/locked", WithDecryption = true }, "InvalidKeyId");
        await session.Client.CallAsync(Get, new { Name = "/locked" });
        await session.Client.CallAsync(Get, new { Name = "/plain", WithDecryption = true });

        Assert.Contains("ssm:GetParameter on resource: arn:aws:ssm:us-east-1:123456789012:parameter/denied", denied.Message, StringComparison.Ordinal);
        Assert.Contains("is disabled. (Service: AWSKMS; Status Code: 400; Error Code: DisabledException", locked.Message, StringComparison.Ordinal);
        var byPath = await session.Client.CallAsync("AmazonSSM.GetParametersByPath", new { Path = "/" });
        Assert.DoesNotContain(byPath.GetProperty("Parameters").EnumerateArray(), p => p.GetProperty("Name").GetString() == "/denied");
    }

    private static async Task<(List<string> Names, int Pages)> ReadAllAsync(AwsTestClient client, object firstRequest)
    {
        var request = JsonSerializer.SerializeToNode(firstRequest)!.AsObject();
        var names = new List<string>();
        for (var pages = 1; pages <= 20; pages++)
        {
            var page = await client.SendJsonAsync("AmazonSSM.GetParametersByPath", request.ToJsonString());
            Assert.True(page.Status == System.Net.HttpStatusCode.OK, page.Raw);
            Assert.True(page.Body.GetProperty("Parameters").GetArrayLength() <= 10);
            names.AddRange(page.Body.GetProperty("Parameters").EnumerateArray().Select(p => p.GetProperty("Name").GetString()!));
            if (!page.Body.TryGetProperty("NextToken", out var token))
            {
                return (names, pages);
            }

            request["NextToken"] = token.GetString();
        }

        throw new InvalidOperationException("Paging did not end.");
    }
}

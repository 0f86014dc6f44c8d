using System.Text;
using System.Text.Json;
using SecretsCache.Aws.Contracts;

namespace SecretsCache.Tests.Aws.Protocol;

/// <summary>GetSecretValue's VersionStages is read by its own converter (StringListConverter): the same answers as the default one.</summary>
public sealed class VersionStagesTests
{
    [Theory]
    [InlineData("""{"Name":"app/db","VersionStages":["AWSCURRENT","blue"],"VersionId":"v1"}""", new[] { "AWSCURRENT", "blue" })]
    [InlineData("""{"Name":"app/db","VersionStages":[]}""", new string[0])]
    public void An_array_of_strings_is_read_in_order_and_the_members_after_it_too(string json, string[] stages)
    {
        var response = Read(json);
        Assert.Equal(stages, response.VersionStages);
        Assert.Equal("app/db", response.Name);
        Assert.Equal(json.Contains("\"v1\"", StringComparison.Ordinal) ? "v1" : null, response.VersionId);
    }

    [Fact]
    public void Null_or_missing_is_no_list()
    {
        Assert.Null(Read("""{"VersionStages":null}""").VersionStages);
        Assert.Null(Read("""{"Name":"x"}""").VersionStages);
    }

    [Theory]
    [InlineData("""{"VersionStages":"AWSCURRENT"}""")]
    [InlineData("""{"VersionStages":["AWSCURRENT",5]}""")]
    [InlineData("""{"VersionStages":[["AWSCURRENT"]]}""")]
    [InlineData("""{"VersionStages":[{"Stage":"AWSCURRENT"}]}""")]
    [InlineData("""{"VersionStages":["AWSCURRENT",null]}""")]
    public void Anything_but_an_array_of_strings_is_a_json_error(string json) =>
        Assert.ThrowsAny<JsonException>(() => Read(json));

    [Fact]
    public void Written_back_as_the_same_array()
    {
        var json = JsonSerializer.Serialize(new GetSecretValueResponse { VersionStages = ["AWSCURRENT", "AWSPENDING"] }, AwsJsonContext.Default.GetSecretValueResponse);
        Assert.Equal(["AWSCURRENT", "AWSPENDING"], Read(json).VersionStages);
    }

    private static GetSecretValueResponse Read(string json) =>
        JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(json), AwsJsonContext.Default.GetSecretValueResponse)!;
}

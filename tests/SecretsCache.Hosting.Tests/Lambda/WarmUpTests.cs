using System.Text;
using System.Text.Json;
using LambdaFunction;
using SecretsCache.Hosting.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Hosting.Tests.Lambda;

public sealed class WarmUpTests(EmulatorFixture emulator) : IClassFixture<EmulatorFixture>
{
    private AwsEmulator Aws => emulator.Aws;

    [Fact]
    public async Task Fifty_references_warm_up_in_three_batches_and_one_GetParameters_then_invocations_call_nothing()
    {
        var references = new List<string>();
        for (var i = 0; i < 45; i++)
        {
            Aws.CreateSecret($"warm/secret-{i:00}", $"value-{i}");
            references.Add($"warm/secret-{i:00}");
        }

        for (var i = 0; i < 5; i++)
        {
            Aws.PutParameter($"/warm/param-{i}", $"parameter-value-{i}");
            references.Add($"ssm:/warm/param-{i}");
        }

        Aws.Requests.Reset();
        using var provider = new SecretProvider(emulator.Options());
        var function = await SecretsFunction.InitializeAsync(provider, references);

        Assert.Equal(50, function.Init.Loaded);
        Assert.Equal(3, Aws.Requests.Count("secretsmanager.BatchGetSecretValue")); // 20 + 20 + 5
        Assert.Equal(1, Aws.Requests.Count("AmazonSSM.GetParameters"));            // up to 10 per call
        Assert.Equal(4, Aws.Requests.Total);

        using var output = await function.HandleAsync(new MemoryStream(Encoding.UTF8.GetBytes("""{"references":["warm/secret-07","ssm:/warm/param-3"]}""")));
        var json = await new StreamReader(output).ReadToEndAsync();
        var response = JsonSerializer.Deserialize(json, FunctionJson.Default.FunctionResponse)!;

        Assert.Equal(4, Aws.Requests.Total); // served from the warmed cache
        Assert.Equal("value-7".Length, response.Secrets["warm/secret-07"].Length);
        Assert.Equal("1", response.Secrets["ssm:/warm/param-3"].Version);
        Assert.DoesNotContain("value-7", json);
        Assert.DoesNotContain("parameter-value-3", json);
    }

    [Fact]
    public async Task Init_fails_naming_the_references_that_could_not_be_loaded_and_why_never_a_value()
    {
        Aws.CreateSecret("warm/present", "ok-value");
        using var provider = new SecretProvider(emulator.Options());

        var error = await Assert.ThrowsAsync<WarmUpFailedException>(() => SecretsFunction.InitializeAsync(provider, ["warm/present", "warm/absent"]));

        Assert.Equal("1 of 2 warm-up references could not be loaded: warm/absent (ResourceNotFoundException).", error.Message);
    }
}

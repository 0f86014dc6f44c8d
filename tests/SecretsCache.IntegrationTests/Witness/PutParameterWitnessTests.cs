using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using SecretsCache.IntegrationTests.Provider.Support;
using SecretsCache.IntegrationTests.Witness.Support;

namespace SecretsCache.IntegrationTests.Witness;

/// <summary>Where AWS's own SSM client found the emulator departing from the service model, held by the SDK itself.</summary>
public sealed class PutParameterWitnessTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    private const string PutParameter = "AmazonSSM.PutParameter";

    [Fact]
    public async Task Creating_a_parameter_without_Type_is_a_ValidationException_and_creates_nothing()
    {
        var name = ParameterRoot() + "untyped";
        var sdk = Own(SsmWitness.Create(Aws, retries: 0));

        var error = await Assert.ThrowsAnyAsync<AmazonSimpleSystemsManagementException>(
            () => sdk.PutParameterAsync(new PutParameterRequest { Name = name, Value = "v" }));
        var overwriting = await Assert.ThrowsAnyAsync<AmazonSimpleSystemsManagementException>(
            () => sdk.PutParameterAsync(new PutParameterRequest { Name = name, Value = "v", Overwrite = true }));

        Assert.Equal("ValidationException", error.ErrorCode);
        Assert.Equal("ValidationException", overwriting.ErrorCode);
        Assert.Equal("A parameter type is required when you create a parameter.", error.Message);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal(2, Aws.Requests.Count(PutParameter));
        await Assert.ThrowsAsync<ParameterNotFoundException>(() => sdk.GetParameterAsync(new GetParameterRequest { Name = name }));
    }

    [Fact]
    public async Task Overwriting_without_Type_keeps_the_type()
    {
        var name = ParameterRoot() + "typed";
        var sdk = Own(SsmWitness.Create(Aws, retries: 0));

        var created = await sdk.PutParameterAsync(new PutParameterRequest { Name = name, Value = "one", Type = ParameterType.SecureString });
        var overwritten = await sdk.PutParameterAsync(new PutParameterRequest { Name = name, Value = "two", Overwrite = true });
        var read = (await sdk.GetParameterAsync(new GetParameterRequest { Name = name, WithDecryption = true })).Parameter;

        Assert.Equal((1L, 2L), (created.Version!.Value, overwritten.Version!.Value));
        Assert.Equal(ParameterTier.Standard, overwritten.Tier);
        Assert.Equal(ParameterType.SecureString, read.Type);
        Assert.Equal("two", read.Value);
        Assert.Equal("two", await CreateProvider().GetStringAsync("ssm:" + name));
    }

    [Fact]
    public async Task An_operation_the_emulator_does_not_implement_names_itself_to_the_sdk()
    {
        var sdk = Own(SsmWitness.Create(Aws, retries: 0));

        var error = await Assert.ThrowsAnyAsync<AmazonSimpleSystemsManagementException>(() => sdk.DescribeParametersAsync(new DescribeParametersRequest()));

        Assert.Equal("UnknownOperationException", error.ErrorCode);
        Assert.Contains("AmazonSSM.DescribeParameters", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, Aws.Requests.Rejected);
    }
}

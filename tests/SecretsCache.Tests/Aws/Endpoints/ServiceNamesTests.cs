using SecretsCache.Aws.Endpoints;

namespace SecretsCache.Tests.Aws.Endpoints;

/// <summary>The names used for each service, checked against the service models.</summary>
public sealed class ServiceNamesTests
{
    [Theory]
    [InlineData("secretsmanager")]
    [InlineData("ssm")]
    public void Signing_name_and_endpoint_variable_follow_the_service_model(string model)
    {
        var service = model == "ssm" ? AwsService.ParameterStore : AwsService.SecretsManager;
        var metadata = RuleSetConformanceTests.ServiceModelMetadata(model);

        // The SDKs' "service-specific endpoints" rule: the serviceId, spaces to underscores, upper-cased.
        var variable = "AWS_ENDPOINT_URL_" + metadata.GetProperty("serviceId").GetString()!.Replace(' ', '_').ToUpperInvariant();

        Assert.Equal(variable, service.EndpointUrlVariable());
        Assert.Equal(metadata.GetProperty("endpointPrefix").GetString(), service.SigningName());
        if (metadata.TryGetProperty("signingName", out var signingName))
        {
            Assert.Equal(signingName.GetString(), service.SigningName());
        }
    }
}

using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using SecretsCache.Aws.Contracts;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Aws.Protocol;

/// <summary>Every member the wire contracts send or read exists, under that exact name, in AWS's service models.</summary>
public sealed class WireContractTests
{
    public static TheoryData<string, string, string> Contracts()
    {
        var data = new TheoryData<string, string, string>();
        void Add(string service, JsonTypeInfo type, string shape) => data.Add(service, type.Type.Name, shape);
        var c = AwsJsonContext.Default;
        Add("secretsmanager", c.GetSecretValueRequest, "GetSecretValueRequest");
        Add("secretsmanager", c.GetSecretValueResponse, "GetSecretValueResponse");
        Add("secretsmanager", c.GetSecretValueResponse, "SecretValueEntry");
        Add("secretsmanager", c.BatchGetSecretValueRequest, "BatchGetSecretValueRequest");
        Add("secretsmanager", c.BatchGetSecretValueResponse, "BatchGetSecretValueResponse");
        Add("secretsmanager", c.BatchError, "APIErrorType");
        Add("secretsmanager", c.DescribeSecretRequest, "DescribeSecretRequest");
        Add("secretsmanager", c.DescribeSecretResponse, "DescribeSecretResponse");
        Add("ssm", c.GetParameterRequest, "GetParameterRequest");
        Add("ssm", c.GetParameterResult, "GetParameterResult");
        Add("ssm", c.GetParametersRequest, "GetParametersRequest");
        Add("ssm", c.GetParametersResult, "GetParametersResult");
        Add("ssm", c.GetParametersByPathRequest, "GetParametersByPathRequest");
        Add("ssm", c.GetParametersByPathResult, "GetParametersByPathResult");
        Add("ssm", c.Parameter, "Parameter");
        return data;
    }

    [Theory]
    [MemberData(nameof(Contracts))]
    public void Contract_members_match_the_model_shape(string service, string typeName, string shapeName)
    {
        using var model = JsonDocument.Parse(File.ReadAllText(SharedFiles.Path("aws-models", service, "service-2.json")));
        var shape = model.RootElement.GetProperty("shapes").GetProperty(shapeName);
        var members = shape.GetProperty("members").EnumerateObject().Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        var info = (JsonTypeInfo)AwsJsonContext.Default.GetTypeInfo(typeof(AwsJsonContext).Assembly.GetTypes().Single(t => t.Name == typeName && t.Namespace == "SecretsCache.Aws.Contracts"))!;

        Assert.NotEmpty(info.Properties);
        foreach (var property in info.Properties)
        {
            Assert.True(members.Contains(property.Name), $"{typeName}.{property.Name} is not a member of {service} shape {shapeName}");
        }

        if (shape.TryGetProperty("required", out var required))
        {
            foreach (var name in required.EnumerateArray().Select(r => r.GetString()!))
            {
                Assert.Contains(info.Properties, p => p.Name == name);
            }
        }
    }
}

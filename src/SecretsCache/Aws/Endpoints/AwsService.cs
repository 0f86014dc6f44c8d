namespace SecretsCache.Aws.Endpoints;

/// <summary>The AWS services this library calls.</summary>
internal enum AwsService
{
    /// <summary>AWS Secrets Manager: signing name and endpoint prefix <c>secretsmanager</c>.</summary>
    SecretsManager,

    /// <summary>AWS Systems Manager Parameter Store: signing name and endpoint prefix <c>ssm</c>.</summary>
    ParameterStore,
}

/// <summary>The names AWS gives each <see cref="AwsService"/>.</summary>
internal static class AwsServiceNames
{
    /// <summary>The SigV4 signing name, which is also the endpoint host prefix for both services.</summary>
    public static string SigningName(this AwsService service) => service switch
    {
        AwsService.SecretsManager => "secretsmanager",
        AwsService.ParameterStore => "ssm",
        _ => throw new ArgumentOutOfRangeException(nameof(service), service, null),
    };

    /// <summary>The service-specific endpoint variable, from the service id ("Secrets Manager", "SSM") as the AWS SDKs derive it.</summary>
    public static string EndpointUrlVariable(this AwsService service) => service switch
    {
        AwsService.SecretsManager => "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        AwsService.ParameterStore => "AWS_ENDPOINT_URL_SSM",
        _ => throw new ArgumentOutOfRangeException(nameof(service), service, null),
    };
}

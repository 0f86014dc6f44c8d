namespace SecretsCache.Aws.Endpoints;

// Placeholder until the endpoints branch lands: custom endpoint or the standard endpoint only.
internal enum AwsService
{
    SecretsManager,
    ParameterStore,
}

internal sealed record EndpointSettings(string? ServiceUrl, bool UseFips, bool UseDualStack);

internal sealed record ResolvedEndpoint(Uri Url, string SigningRegion, string SigningService);

internal static class AwsEndpointResolver
{
    public static ResolvedEndpoint Resolve(AwsService service, string region, EndpointSettings settings, Func<string, string?> getEnvironmentVariable)
    {
        var signing = service == AwsService.SecretsManager ? "secretsmanager" : "ssm";
        var custom = settings.ServiceUrl ?? getEnvironmentVariable("AWS_ENDPOINT_URL");
        var url = custom is not null ? new Uri(custom) : new Uri($"https://{signing}.{region}.amazonaws.com/");
        return new ResolvedEndpoint(url, region, signing);
    }
}

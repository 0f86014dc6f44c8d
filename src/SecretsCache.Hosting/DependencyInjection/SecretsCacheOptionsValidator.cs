using Microsoft.Extensions.Options;
using SecretsCache.Aws.Identity;

namespace SecretsCache.Hosting.DependencyInjection;

/// <summary>Runs <see cref="SecretsCacheOptions.Validate"/> for every named instance, so <c>ValidateOnStart</c> fails the host with its messages.</summary>
internal sealed class SecretsCacheOptionsValidator : IValidateOptions<SecretsCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, SecretsCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>(options.Validate());
        CheckUrl(errors, options.Aws.ServiceUrl, "Aws.ServiceUrl");
        CheckUrl(errors, options.Aws.SecretsManagerServiceUrl, "Aws.SecretsManagerServiceUrl");
        CheckUrl(errors, options.Aws.ParameterStoreServiceUrl, "Aws.ParameterStoreServiceUrl");
        if (errors.Count == 0 && RegionResolver.TryResolve(options.Aws, Environment.GetEnvironmentVariable) is null)
        {
            // Found at start-up, not on the first read: an app without a region would start, then fail every request.
            errors.Add(RegionResolver.NoRegionMessage);
        }
        if (errors.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        var label = string.IsNullOrEmpty(name) ? "SecretsCache options" : $"SecretsCache options '{name}'";
        return ValidateOptionsResult.Fail(errors.Select(e => $"{label}: {e}"));
    }

    private static void CheckUrl(List<string> errors, string? url, string option)
    {
        if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)))
        {
            errors.Add($"{option} must be an absolute https:// URL (http:// on loopback only).");
        }
    }
}

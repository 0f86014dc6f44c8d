namespace SecretsCache.Aws.Endpoints;

/// <summary>Reads the AWS boolean environment variables (<c>AWS_USE_FIPS_ENDPOINT</c> and the like).</summary>
internal static class EnvironmentFlag
{
    /// <summary>
    /// True for <c>true</c> in any case; false when unset, blank or <c>false</c>. Anything else is an error rather than
    /// a silent "off": <c>AWS_USE_FIPS_ENDPOINT=1</c> quietly meaning non-FIPS would be a compliance surprise.
    /// </summary>
    public static bool IsOn(Func<string, string?> getEnvironmentVariable, string name)
    {
        var value = getEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        return bool.TryParse(value.Trim(), out var on)
            ? on
            : throw new SecretsConfigurationException($"The environment variable {name} must be 'true' or 'false'.");
    }
}

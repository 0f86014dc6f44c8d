namespace SecretsCache.IntegrationTests.Provider.Support;

/// <summary>
/// Sets process environment variables for one test and puts every one back on dispose. Only tests in the
/// <see cref="ProcessEnvironmentCollection"/> use it, so no test runs beside them while the environment is changed.
/// </summary>
internal sealed class EnvironmentScope : IDisposable
{
    private readonly Dictionary<string, string?> _saved = new(StringComparer.Ordinal);

    public EnvironmentScope Set(string name, string? value)
    {
        _saved.TryAdd(name, Environment.GetEnvironmentVariable(name));
        Environment.SetEnvironmentVariable(name, value);
        return this;
    }

    /// <summary>
    /// An environment in which AWSSDK.Core's default chains find nothing: no credential or region variables, profile files
    /// that do not exist, no container credentials, and instance metadata turned off.
    /// </summary>
    public static EnvironmentScope WithoutAmbientAws()
    {
        var missing = Path.Combine(Path.GetTempPath(), "secretscache-it-" + Guid.NewGuid().ToString("N"), "missing");
        var scope = new EnvironmentScope();
        foreach (var name in (string[])[
            "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY", "AWS_SECRET_KEY",
            "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_REGION", "AWS_DEFAULT_REGION"])
        {
            scope.Set(name, null);
        }

        return scope
            .Set("AWS_SHARED_CREDENTIALS_FILE", missing + "-credentials")
            .Set("AWS_CONFIG_FILE", missing + "-config")
            .Set("AWS_EC2_METADATA_DISABLED", "true");
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }
}

/// <summary>Tests that change the process environment; xunit runs this collection alone, after the parallel ones.</summary>
[CollectionDefinition(nameof(ProcessEnvironmentCollection), DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection;

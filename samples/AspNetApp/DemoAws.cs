using Amazon.Runtime;
using SecretsCache;
using SecretsCache.Testing;

/// <summary>Decides between real AWS and the in-process emulator, and seeds the emulator with demo data.</summary>
internal static class DemoAws
{
    /// <summary>The emulator is used unless AWS credentials or an endpoint are configured (or <c>Demo:UseEmulator</c> forces it).</summary>
    public static bool UseEmulator(IConfiguration configuration) =>
        configuration.GetValue<bool?>("Demo:UseEmulator")
        ?? (string.IsNullOrEmpty(configuration["SecretsCache:Aws:ServiceUrl"]) && !HasAwsCredentials());

    public static async Task<AwsEmulator> StartEmulatorAsync()
    {
        var aws = await AwsEmulator.StartAsync();
        aws.CreateSecret("demo/db", """{"Username":"app","Password":"first-password","Hosts":["db-1","db-2"]}""");
        aws.CreateSecret("demo/api-key", "k-123");
        aws.PutParameter("/demo/prod/FeatureFlags/NewCheckout", "true", "String");
        aws.PutParameter("/demo/prod/Db/Port", "5432", "String");
        return aws;
    }

    /// <summary>Points every provider at the emulator. Credentials are set in code: configuration cannot hold them.</summary>
    public static Action<SecretsCacheOptions> Configure(AwsEmulator? emulator) => emulator is null
        ? static _ => { }
        : options =>
        {
            options.Aws.ServiceUrl = emulator.Endpoint.ToString();
            options.Aws.Region = emulator.Region;
            options.Aws.Credentials = new BasicAWSCredentials(emulator.AccessKeyId, emulator.SecretAccessKey);
        };

    private static bool HasAwsCredentials() =>
        Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is { Length: > 0 }
        || Environment.GetEnvironmentVariable("AWS_PROFILE") is { Length: > 0 }
        || Environment.GetEnvironmentVariable("AWS_WEB_IDENTITY_TOKEN_FILE") is { Length: > 0 }
        || Environment.GetEnvironmentVariable("AWS_CONTAINER_CREDENTIALS_FULL_URI") is { Length: > 0 };
}

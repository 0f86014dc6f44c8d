using SecretsCache.Testing;

/// <summary>The function's data on the emulator: 45 secrets and 5 parameters, the warm-up list of a typical service.
/// The cold-start benchmark links this file, so both measure the same list.</summary>
internal static class FunctionData
{
    /// <summary>Creates the secrets <c>{prefix}/secret-NN</c> and parameters <c>/{prefix}/param-N</c>; returns their references.</summary>
    public static List<string> Seed(AwsEmulator aws, string prefix)
    {
        var references = new List<string>();
        for (var i = 0; i < 45; i++)
        {
            aws.CreateSecret($"{prefix}/secret-{i:00}", $$"""{"user":"u{{i}}","password":"p-{{i}}"}""");
            references.Add($"{prefix}/secret-{i:00}");
        }

        for (var i = 0; i < 5; i++)
        {
            aws.PutParameter($"/{prefix}/param-{i}", $"value-{i}");
            references.Add($"ssm:/{prefix}/param-{i}");
        }

        return references;
    }
}

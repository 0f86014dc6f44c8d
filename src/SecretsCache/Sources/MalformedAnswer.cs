using SecretsCache.Aws.Endpoints;
using SecretsCache.Aws.Protocol;

namespace SecretsCache.Sources;

/// <summary>
/// A 2xx that lacks what its operation promises. It is not an answer (above all not "not found", which would drop a good
/// cached value): it is a transient failure, so the cache keeps serving what it has and tries again after its backoff.
/// </summary>
internal static class MalformedAnswer
{
    public const string ErrorCode = "MalformedResponse";

    /// <summary>The error for an answer to <paramref name="operation"/> that lacks <paramref name="missing"/> (member names, never a value).</summary>
    public static SecretServiceUnavailableException Create(AwsService service, string operation, string? reference, string missing) =>
        new(
            reference is null
                ? $"AWS {AwsJsonClient.ServiceName(service)} answered {operation} without {missing}."
                : $"AWS {AwsJsonClient.ServiceName(service)} answered {operation} for '{reference}' without {missing}.",
            reference,
            ErrorCode);
}

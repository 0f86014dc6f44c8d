namespace SecretsCache.Tests.Support;

/// <summary>The typed errors a real source raises, as the fakes raise them.</summary>
internal static class Errors
{
    public static SecretsCacheException Throttled(SecretReference r) =>
        new SecretThrottledException($"Rate exceeded reading '{r}'.", r.ToString(), "ThrottlingException");

    public static SecretsCacheException Unavailable(SecretReference r) =>
        new SecretServiceUnavailableException($"The service failed reading '{r}'.", r.ToString(), "InternalServiceError");

    public static SecretsCacheException AccessDenied(SecretReference r) =>
        new SecretAccessDeniedException($"Access to '{r}' was denied.", r.ToString(), "AccessDeniedException");

    public static Func<SecretReference, Exception?> ByName(string kind) => kind switch
    {
        nameof(SecretThrottledException) => Throttled,
        nameof(SecretServiceUnavailableException) => Unavailable,
        nameof(SecretAccessDeniedException) => AccessDenied,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}

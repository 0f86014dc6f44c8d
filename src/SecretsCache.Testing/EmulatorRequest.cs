namespace SecretsCache.Testing;

/// <summary>One request the emulator answered (or aborted).</summary>
/// <param name="Operation">The <c>X-Amz-Target</c> as sent, e.g. <c>secretsmanager.GetSecretValue</c>; empty when none was sent.</param>
/// <param name="ArrivedAt">When it arrived, by the emulator's <see cref="TimeProvider"/> (without clock skew).</param>
/// <param name="Outcome">How it was answered.</param>
/// <param name="StatusCode">The HTTP status, or 0 when the connection was aborted.</param>
/// <param name="ErrorCode">The AWS error code (<c>__type</c>) of an error answer, else null.</param>
public sealed record EmulatorRequest(string Operation, DateTimeOffset ArrivedAt, EmulatorOutcome Outcome, int StatusCode, string? ErrorCode)
{
    /// <summary>The region of the request's SigV4 credential scope (the region that answered it), or null when it had no
    /// readable <c>Authorization</c> header. A request signed for a region the emulator does not serve keeps that region.</summary>
    public string? Region { get; init; }
}

/// <summary>How the emulator answered a request.</summary>
public enum EmulatorOutcome
{
    /// <summary>The operation succeeded.</summary>
    Ok,

    /// <summary>The operation answered a not-found error (ResourceNotFoundException, ParameterNotFound, ParameterVersionNotFound).</summary>
    NotFound,

    /// <summary>The operation answered AccessDeniedException.</summary>
    AccessDenied,

    /// <summary>The operation answered another service error (e.g. InvalidRequestException, DecryptionFailure).</summary>
    Error,

    /// <summary>A quota answered ThrottlingException.</summary>
    Throttled,

    /// <summary>An injected failure answered (see <see cref="FaultRules.FailNext"/>).</summary>
    Fault,

    /// <summary>An injected connection reset aborted the request.</summary>
    ConnectionReset,

    /// <summary>Authentication failed (missing, malformed, expired or wrong signature; unknown credentials).</summary>
    AuthFailed,

    /// <summary>The request was refused before the operation ran: unknown operation, malformed JSON, or a model constraint.</summary>
    Invalid,
}

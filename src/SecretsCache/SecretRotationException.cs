namespace SecretsCache;

/// <summary>
/// An operation kept failing authentication after the secret was re-fetched (and its AWSPENDING version tried) for the whole
/// <see cref="RotationOptions.TimeBudget"/>: the credential is wrong, not merely rotated. The inner exception is the operation's
/// last authentication failure.
/// </summary>
public class SecretRotationException : SecretsCacheException
{
    /// <summary>Creates the exception.</summary>
    public SecretRotationException() { }

    /// <summary>Creates the exception with a message.</summary>
    public SecretRotationException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public SecretRotationException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a reference, with how many times the operation ran.</summary>
    public SecretRotationException(string message, string? reference, int attempts, Exception? innerException)
        : base(message, reference, "AuthenticationFailed", innerException)
    {
        Attempts = attempts;
    }

    /// <summary>How many times the operation ran, the first attempt included.</summary>
    public int Attempts { get; }
}

namespace SecretsCache;

/// <summary>
/// The base of every error this library raises about a secret. Messages name the reference and the problem, never a value.
/// </summary>
public class SecretsCacheException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SecretsCacheException() { }

    /// <summary>Creates the exception with a message.</summary>
    public SecretsCacheException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public SecretsCacheException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a reference, with the AWS error code where there is one.</summary>
    public SecretsCacheException(string message, string? reference, string? errorCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Reference = reference;
        ErrorCode = errorCode;
    }

    /// <summary>The reference (a name, never a value) the error is about, where there is one.</summary>
    public string? Reference { get; }

    /// <summary>The AWS error code (<c>__type</c>), where the error came from AWS.</summary>
    public string? ErrorCode { get; }

    /// <summary>True when trying again later may succeed (throttling, 5xx, timeouts, network); a cached value may be served instead.</summary>
    public virtual bool IsTransient => false;
}

/// <summary>The secret, parameter, version or label does not exist. Cached briefly (negative caching).</summary>
public class SecretNotFoundException : SecretsCacheException
{
    /// <summary>Creates the exception.</summary>
    public SecretNotFoundException() { }

    /// <summary>Creates the exception with a message.</summary>
    public SecretNotFoundException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public SecretNotFoundException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a reference.</summary>
    public SecretNotFoundException(string message, string? reference, string? errorCode = null, Exception? innerException = null)
        : base(message, reference, errorCode, innerException) { }
}

/// <summary>AWS refused access. For SecureString parameters and customer-managed keys, a missing <c>kms:Decrypt</c> is the usual cause.</summary>
public class SecretAccessDeniedException : SecretsCacheException
{
    /// <summary>Creates the exception.</summary>
    public SecretAccessDeniedException() { }

    /// <summary>Creates the exception with a message.</summary>
    public SecretAccessDeniedException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public SecretAccessDeniedException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a reference.</summary>
    public SecretAccessDeniedException(string message, string? reference, string? errorCode = null, Exception? innerException = null)
        : base(message, reference, errorCode, innerException) { }
}

/// <summary>AWS could not decrypt the value with its KMS key (<c>DecryptionFailure</c>, <c>InvalidKeyId</c>).</summary>
public class SecretDecryptionException : SecretsCacheException
{
    /// <summary>Creates the exception.</summary>
    public SecretDecryptionException() { }

    /// <summary>Creates the exception with a message.</summary>
    public SecretDecryptionException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public SecretDecryptionException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a reference.</summary>
    public SecretDecryptionException(string message, string? reference, string? errorCode = null, Exception? innerException = null)
        : base(message, reference, errorCode, innerException) { }
}

/// <summary>AWS rejected the request as invalid (<c>InvalidParameterException</c>, <c>InvalidRequestException</c>, validation errors, unknown codes).</summary>
public class SecretRequestException : SecretsCacheException
{
    /// <summary>Creates the exception.</summary>
    public SecretRequestException() { }

    /// <summary>Creates the exception with a message.</summary>
    public SecretRequestException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public SecretRequestException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a reference.</summary>
    public SecretRequestException(string message, string? reference, string? errorCode = null, Exception? innerException = null)
        : base(message, reference, errorCode, innerException) { }
}

/// <summary>AWS, or the client-side rate limit, throttled the request after retries ran out.</summary>
public class SecretThrottledException : SecretsCacheException
{
    /// <summary>Creates the exception.</summary>
    public SecretThrottledException() { }

    /// <summary>Creates the exception with a message.</summary>
    public SecretThrottledException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public SecretThrottledException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a reference.</summary>
    public SecretThrottledException(string message, string? reference, string? errorCode = null, Exception? innerException = null)
        : base(message, reference, errorCode, innerException) { }

    /// <inheritdoc />
    public override bool IsTransient => true;
}

/// <summary>AWS could not be reached or failed (5xx, timeout, connection failure) after retries ran out.</summary>
public class SecretServiceUnavailableException : SecretsCacheException
{
    /// <summary>Creates the exception.</summary>
    public SecretServiceUnavailableException() { }

    /// <summary>Creates the exception with a message.</summary>
    public SecretServiceUnavailableException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public SecretServiceUnavailableException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a reference.</summary>
    public SecretServiceUnavailableException(string message, string? reference, string? errorCode = null, Exception? innerException = null)
        : base(message, reference, errorCode, innerException) { }

    /// <inheritdoc />
    public override bool IsTransient => true;
}

/// <summary>The value does not have the shape asked for: a binary secret read as a string, or malformed JSON.</summary>
public class SecretFormatException : SecretsCacheException
{
    /// <summary>Creates the exception.</summary>
    public SecretFormatException() { }

    /// <summary>Creates the exception with a message.</summary>
    public SecretFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public SecretFormatException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a reference.</summary>
    public SecretFormatException(string message, string? reference) : base(message, reference) { }
}

/// <summary>The provider is not set up to reach AWS: no region, no credentials, or an endpoint that is not allowed (or that redirects).</summary>
public class SecretsConfigurationException : SecretsCacheException
{
    /// <summary>Creates the exception.</summary>
    public SecretsConfigurationException() { }

    /// <summary>Creates the exception with a message.</summary>
    public SecretsConfigurationException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public SecretsConfigurationException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for a reference, with an error code (for example <c>Redirect</c>: the endpoint redirected).</summary>
    public SecretsConfigurationException(string message, string? reference, string? errorCode, Exception? innerException = null)
        : base(message, reference, errorCode, innerException) { }
}

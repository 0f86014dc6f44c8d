namespace LambdaFunction.Runtime;

/// <summary>The Runtime API answered something the protocol does not allow, or refused a request.</summary>
public sealed class RuntimeApiException : Exception
{
    public RuntimeApiException()
    {
    }

    public RuntimeApiException(string message)
        : base(message)
    {
    }

    public RuntimeApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RuntimeApiException(string message, int statusCode)
        : base(message) => StatusCode = statusCode;

    /// <summary>The HTTP status of a refusal, else 0.</summary>
    public int StatusCode { get; }

    /// <summary>A 4xx refusal of a response or error report (too large, unknown request id): that invocation is lost, the
    /// environment goes on. Anything else (a 5xx, a malformed <c>/next</c>) means the runtime should exit.</summary>
    public bool IsInvocationRefused => StatusCode is >= 400 and < 500;
}

namespace SecretsCache.Testing.Protocol;

/// <summary>An error the emulator answers with an AWS-shaped JSON body (<c>{"__type": code, "message": ...}</c>).</summary>
/// <remarks>Thrown inside the emulator only; it never reaches a caller over HTTP, and seeding methods turn it into
/// <see cref="InvalidOperationException"/>.</remarks>
#pragma warning disable CA1032, CA1064 // Internal control flow between the state and the HTTP edge, not a public exception.
internal sealed class AwsErrorException : Exception
#pragma warning restore CA1032, CA1064
{
    public AwsErrorException(string code, string? message, int statusCode = 400)
        : base(message ?? code)
    {
        Code = code;
        AwsMessage = message;
        StatusCode = statusCode;
    }

    /// <summary>The AWS error code written as <c>__type</c>.</summary>
    public string Code { get; }

    /// <summary>The text written as the message member, or null to write none (as AWS does for some errors).</summary>
    public string? AwsMessage { get; }

    public int StatusCode { get; }
}

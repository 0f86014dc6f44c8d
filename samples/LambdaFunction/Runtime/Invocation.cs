namespace LambdaFunction.Runtime;

/// <summary>One event handed out by <c>GET /runtime/invocation/next</c>, with the headers Lambda sends beside it.</summary>
public sealed class Invocation
{
    private readonly byte[] _payload;

    internal Invocation(string requestId, DateTimeOffset deadline, string? invokedFunctionArn, string? traceId, byte[] payload)
    {
        RequestId = requestId;
        Deadline = deadline;
        InvokedFunctionArn = invokedFunctionArn;
        TraceId = traceId;
        _payload = payload;
    }

    /// <summary><c>Lambda-Runtime-Aws-Request-Id</c>: where the response or error of this invocation goes.</summary>
    public string RequestId { get; }

    /// <summary><c>Lambda-Runtime-Deadline-Ms</c>: when Lambda stops the function.</summary>
    public DateTimeOffset Deadline { get; }

    /// <summary><c>Lambda-Runtime-Invoked-Function-Arn</c>: the function, version or alias invoked.</summary>
    public string? InvokedFunctionArn { get; }

    /// <summary><c>Lambda-Runtime-Trace-Id</c>: the X-Ray tracing header.</summary>
    public string? TraceId { get; }

    /// <summary>The event, as sent (JSON).</summary>
    public Stream OpenPayload() => new MemoryStream(_payload, writable: false);
}

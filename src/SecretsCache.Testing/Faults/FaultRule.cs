namespace SecretsCache.Testing.Faults;

/// <summary>A fault that applies to the next <c>Remaining</c> requests for an operation (or any operation), or to every
/// one of them until cleared when <c>Remaining</c> is null. The caller locks.</summary>
internal sealed class FaultRule(int? remaining, string? operation, int statusCode, string? errorCode)
{
    public int? Remaining { get; private set; } = remaining;

    public string? Operation { get; } = operation;

    public int StatusCode { get; } = statusCode;

    /// <summary>An explicit AWS error code, or null for the service's usual 5xx error.</summary>
    public string? ErrorCode { get; } = errorCode;

    public bool IsSpent => Remaining <= 0;

    public bool TryTake(string operation)
    {
        if (IsSpent || (Operation is not null && !string.Equals(Operation, operation, StringComparison.Ordinal)))
        {
            return false;
        }

        Remaining--;
        return true;
    }
}

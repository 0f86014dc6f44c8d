using Microsoft.Extensions.Primitives;

namespace SecretsCache.Rotation;

/// <summary>A change token that never fires, for <see cref="ISecretProvider"/> implementations that do not track versions.</summary>
internal sealed class NeverChangeToken : IChangeToken
{
    public static readonly NeverChangeToken Instance = new();

    private NeverChangeToken()
    {
    }

    public bool HasChanged => false;

    public bool ActiveChangeCallbacks => false;

    public IDisposable RegisterChangeCallback(Action<object?> callback, object? state) => EmptyDisposable.Instance;

    private sealed class EmptyDisposable : IDisposable
    {
        public static readonly EmptyDisposable Instance = new();

        public void Dispose()
        {
        }
    }
}

using Xunit.Sdk;

namespace SecretsCache.Tests.Support;

/// <summary>Reads a <see cref="ValueTask{T}"/> that must already have completed, such as a cache hit; fails the test otherwise.</summary>
internal static class Completed
{
    public static T Result<T>(ValueTask<T> task, string what = "the read to complete at once") =>
        task.IsCompletedSuccessfully ? task.Result : throw new XunitException($"Expected {what}.");

    /// <summary>The value of a read if it completed at once (a hit), else null. The read is consumed either way.</summary>
    public static string? HitValue(SecretProvider provider, string reference)
    {
        var read = provider.GetAsync(reference);
        if (read.IsCompletedSuccessfully)
        {
            return read.Result.GetString();
        }

        _ = read.AsTask().Exception; // Observe: a pending or faulted read is simply "not a hit".
        return null;
    }
}

using SecretsCache.Rotation;

namespace SecretsCache;

/// <summary>
/// Runs code that uses a credential (a database login, an API key) so that a rotation does not break it: on an authentication
/// failure the secret is re-fetched and the code retried with the new value. See docs/rotation.md.
/// </summary>
public static class SecretProviderRotationExtensions
{
    private static readonly RotationOptions DefaultOptions = new(); // Never handed out, so never changed.

    /// <summary>
    /// Runs <paramref name="operation"/> with the value of <paramref name="reference"/>. When it throws an exception that
    /// <see cref="RotationOptions.IsAuthenticationFailure"/> accepts, the secret is refreshed (at most once per
    /// <see cref="SecretsCacheOptions.MinForcedRefreshInterval"/> per reference, however many callers fail) and the operation is
    /// retried with each new version found: a new AWSCURRENT, else AWSPENDING (mid-rotation), re-checking with jittered backoff
    /// within <see cref="RotationOptions.TimeBudget"/>. Any other exception passes through untouched. The operation may run
    /// more than once, so it must be safe to repeat (opening a connection is; a half-done write may not be).
    /// </summary>
    /// <exception cref="ArgumentException">The reference or the options are invalid.</exception>
    /// <exception cref="SecretRotationException">No version of the secret was accepted within the time budget.</exception>
    /// <exception cref="SecretsCacheException">The secret could not be read at all (not found, access denied...).</exception>
    public static ValueTask<T> ExecuteAsync<T>(
        this ISecretProvider provider,
        string reference,
        Func<Secret, CancellationToken, ValueTask<T>> operation,
        RotationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(operation);
        return RotationExecutor.ExecuteAsync(provider, reference, operation, Validated(options), cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> with the value of <paramref name="reference"/>, recovering from a rotation as <see cref="ExecuteAsync{T}"/> does.</summary>
    /// <exception cref="ArgumentException">The reference or the options are invalid.</exception>
    /// <exception cref="SecretRotationException">No version of the secret was accepted within the time budget.</exception>
    /// <exception cref="SecretsCacheException">The secret could not be read at all (not found, access denied...).</exception>
    public static async ValueTask ExecuteAsync(
        this ISecretProvider provider,
        string reference,
        Func<Secret, CancellationToken, ValueTask> operation,
        RotationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(operation);
        await RotationExecutor.ExecuteAsync(
            provider,
            reference,
            async (secret, token) =>
            {
                await operation(secret, token).ConfigureAwait(false);
                return true;
            },
            Validated(options),
            cancellationToken).ConfigureAwait(false);
    }

    private static RotationOptions Validated(RotationOptions? options)
    {
        if (options is null)
        {
            return DefaultOptions;
        }

        var errors = options.Validate();
        return errors.Count == 0 ? options : throw new ArgumentException("Invalid rotation options: " + string.Join(" ", errors), nameof(options));
    }
}

using Microsoft.Extensions.Logging;
using SecretsCache.Composition;

namespace SecretsCache.Rotation;

/// <summary>
/// Runs an operation with a secret and recovers from a rotation. The fast path (no authentication failure) costs one cache read.
/// On an authentication failure: force a refresh (rate-limited per reference by the provider, so any number of failing callers
/// cause at most one fetch per interval) and retry with the new version if there is one; else try the AWSPENDING version (a
/// rotation may have changed the database before moving AWSCURRENT) and remember that it worked until AWSCURRENT moves; else
/// re-check with jittered backoff until the time budget runs out. Each distinct version is tried at most once per call.
/// </summary>
internal static class RotationExecutor
{
    public const string PendingStage = "AWSPENDING";

    public static async ValueTask<T> ExecuteAsync<T>(
        ISecretProvider provider, string reference, Func<Secret, CancellationToken, ValueTask<T>> operation, RotationOptions options, CancellationToken cancellationToken)
    {
        // The fast path reads the cache with the caller's text (a hit parses nothing) and parses only when a pin exists or on failure.
        var runtime = ProviderRuntime.Of(provider);
        var state = runtime.Rotation;
        var current = await provider.GetAsync(reference, cancellationToken).ConfigureAwait(false);
        (string Key, string? PendingKey)? keys = null;
        var (secret, usedPending) = (current, false);
        if (options.TryPendingVersion && state.HasPins)
        {
            keys = KeysOf(reference, options);
            (secret, usedPending) = await ChooseAsync(provider, state, keys.Value.Key, keys.Value.PendingKey, current, cancellationToken).ConfigureAwait(false);
        }

        Exception failure;
        try
        {
            return await operation(secret, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (options.IsAuthenticationFailure(ex))
        {
            failure = ex;
        }

        var (key, pendingKey) = keys ?? KeysOf(reference, options);
        var recovery = new Recovery<T>(provider, runtime, key, pendingKey, operation, options, state, cancellationToken);
        return await recovery.RunAsync(current, secret, usedPending, failure).ConfigureAwait(false);
    }

    private static (string Key, string? PendingKey) KeysOf(string reference, RotationOptions options)
    {
        var parsed = SecretReference.Parse(reference);
        return (parsed.CanonicalText, options.TryPendingVersion ? PendingReferenceOf(parsed) : null);
    }

    /// <summary>The AWSPENDING spelling of a Secrets Manager reference (plain or passthrough) that names no version; else null.</summary>
    internal static string? PendingReferenceOf(SecretReference reference) =>
        reference.VersionStage is not null || reference.VersionId is not null ? null
        : reference.Store == SecretStore.SecretsManager ? reference.CanonicalText + "?stage=" + PendingStage
        : reference.IsPassthrough ? reference.CanonicalText + ":" + PendingStage
        : null;

    internal static bool SameVersion(Secret a, Secret b) =>
        ReferenceEquals(a, b)
        || (a.Version is not null ? string.Equals(a.Version, b.Version, StringComparison.Ordinal) : b.Version is null && a.HasSameValue(b));

    /// <summary>The current value, or the pending one while a pin says AWSPENDING works and AWSCURRENT has not moved.</summary>
    private static async ValueTask<(Secret Secret, bool Pending)> ChooseAsync(
        ISecretProvider provider, RotationState state, string key, string? pendingKey, Secret current, CancellationToken cancellationToken)
    {
        if (pendingKey is null || !state.TryGetPin(key, out var refusedCurrent))
        {
            return (current, false);
        }

        if (!string.Equals(refusedCurrent, current.Version, StringComparison.Ordinal))
        {
            state.Unpin(key, refusedCurrent); // AWSCURRENT moved: the rotation is over (or was undone).
            return (current, false);
        }

        try
        {
            return (await provider.GetAsync(pendingKey, cancellationToken).ConfigureAwait(false), true);
        }
        catch (SecretsCacheException)
        {
            state.Unpin(key, refusedCurrent);
            return (current, false);
        }
    }

    private sealed class Recovery<T>(
        ISecretProvider provider,
        IProviderRuntime runtime,
        string key,
        string? pendingKey,
        Func<Secret, CancellationToken, ValueTask<T>> operation,
        RotationOptions options,
        RotationState state,
        CancellationToken cancellationToken)
    {
        private readonly TimeProvider _time = runtime.Time;
        private readonly ILogger _logger = runtime.Logger;
        // The provider's own generator, not Random.Shared: a snapshot restore seeds it again, so restored environments re-check apart.
#pragma warning disable CA5394 // Jitter, not security.
        private readonly Func<double> _random = options.Random ?? runtime.Random.NextDouble;
#pragma warning restore CA5394
        private readonly List<Secret> _tried = [];
        private int _attempts = 1;

        public async ValueTask<T> RunAsync(Secret current, Secret failed, bool failedWasPending, Exception failure)
        {
            var started = _time.GetTimestamp();
            _tried.Add(failed);
            if (failedWasPending)
            {
                state.Unpin(key); // The remembered AWSPENDING version is refused too.
            }

            RotationLog.AuthenticationFailed(_logger, key, failed.Version, failure.GetType().Name);
            var lastCurrent = current;
            var recheck = 0;
            while (true)
            {
                var refreshed = await TryRefreshAsync(key, isPending: false).ConfigureAwait(false);
                if (refreshed is not null)
                {
                    lastCurrent = refreshed;
                    if (IsUntried(refreshed))
                    {
                        var (ok, result, error) = await TryOperationAsync(refreshed, "AWSCURRENT").ConfigureAwait(false);
                        if (ok)
                        {
                            state.Unpin(key);
                            return result!;
                        }

                        failure = error!;
                    }
                }

                if (pendingKey is not null && await TryRefreshAsync(pendingKey, isPending: true).ConfigureAwait(false) is { } pending && IsUntried(pending))
                {
                    var (ok, result, error) = await TryOperationAsync(pending, PendingStage).ConfigureAwait(false);
                    if (ok)
                    {
                        if (lastCurrent.Version is { } refusedCurrent)
                        {
                            state.Pin(key, refusedCurrent);
                        }

                        RotationLog.UsingPending(_logger, key, pending.Version);
                        return result!;
                    }

                    failure = error!;
                }

                var remaining = options.TimeBudget - _time.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero)
                {
                    RotationLog.BudgetExhausted(_logger, key, options.TimeBudget.TotalMilliseconds, _attempts);
                    throw new SecretRotationException(
                        $"An operation using '{key}' still failed authentication ({failure.GetType().Name}) after {_attempts} attempt(s) over "
                        + $"{options.TimeBudget.TotalSeconds:0.###} s, with every version the re-fetches found{(pendingKey is null ? string.Empty : " (AWSPENDING included)")}. "
                        + "The credential is wrong, not merely rotated.",
                        key,
                        _attempts,
                        failure);
                }

                var delay = RecheckBackoff.Delay(++recheck, options.RecheckDelay, options.MaxRecheckDelay, _random());
                await Task.Delay(delay < remaining ? delay : remaining, _time, cancellationToken).ConfigureAwait(false);
            }
        }

        private bool IsUntried(Secret candidate) => !_tried.Exists(t => SameVersion(t, candidate));

        private async ValueTask<(bool Ok, T? Result, Exception? Error)> TryOperationAsync(Secret candidate, string stage)
        {
            _tried.Add(candidate);
            _attempts++;
            RotationLog.Retrying(_logger, key, candidate.Version, stage);
            try
            {
                return (true, await operation(candidate, cancellationToken).ConfigureAwait(false), null);
            }
            catch (Exception ex) when (options.IsAuthenticationFailure(ex))
            {
                return (false, default, ex);
            }
        }

        /// <summary>
        /// A forced refresh (rate-limited by the provider). A transient error means "nothing new yet"; so does any error for the
        /// pending version, which usually does not exist. Other errors of the current version (deleted, access denied) are thrown.
        /// </summary>
        private async ValueTask<Secret?> TryRefreshAsync(string reference, bool isPending)
        {
            try
            {
                return await provider.RefreshAsync(reference, cancellationToken).ConfigureAwait(false);
            }
            catch (SecretNotFoundException) when (isPending)
            {
                return null;
            }
            catch (SecretsCacheException ex) when (isPending || ex.IsTransient)
            {
                RotationLog.RecheckFailed(_logger, reference, ex.ErrorCode ?? ex.GetType().Name);
                return null;
            }
        }
    }
}

using SecretsCache.Sources;

namespace SecretsCache.Composition;

/// <summary>
/// The source of a provider built before the packages that decorate it are known: a configuration source builds its
/// provider before the DI container exists, and the container's contributions (SecretsCache.Redis's second level) are
/// attached when the container adopts it (<see cref="SecretsCacheRuntime.Attach"/>). Until then it is the AWS source; a
/// fetch already under way finishes on the source it started on. Every <see cref="ISecretSource"/> member is forwarded to
/// <see cref="Current"/>, those with a default implementation included (an interface default is not forwarded by itself).
/// </summary>
internal sealed class AttachableSource(ISecretSource aws) : ISecretSource, IDisposable
{
    private volatile ISecretSource _current = aws;

    /// <summary>The AWS source, or the decorator attached in front of it.</summary>
    public ISecretSource Current => _current;

    /// <summary>Puts <paramref name="decorated"/> (which wraps <see cref="Current"/>) in front; it then owns the chain's disposal.</summary>
    public void Attach(ISecretSource decorated) => _current = decorated;

    public ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, CancellationToken cancellationToken) =>
        _current.FetchAsync(reference, current, cancellationToken);

    public ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, FetchReason reason, CancellationToken cancellationToken) =>
        _current.FetchAsync(reference, current, reason, cancellationToken);

    public bool CannotAnswerWithin(SecretReference reference, TimeSpan wait) => _current.CannotAnswerWithin(reference, wait);

    public bool KnownFailing(SecretReference reference) => _current.KnownFailing(reference);

    public double? SharedRefreshAheadFraction(SecretReference reference) => _current.SharedRefreshAheadFraction(reference);

    public Task? NextOutage(SecretReference reference) => _current.NextOutage(reference);

    public ValueTask<IReadOnlyList<FetchOutcome>> FetchManyAsync(IReadOnlyList<SecretReference> references, CancellationToken cancellationToken) =>
        _current.FetchManyAsync(references, cancellationToken);

    public Task<IReadOnlyList<Secret>> FetchPathAsync(string path, bool recursive, CancellationToken cancellationToken) =>
        _current.FetchPathAsync(path, recursive, cancellationToken);

    public void Dispose() => (_current as IDisposable)?.Dispose();
}

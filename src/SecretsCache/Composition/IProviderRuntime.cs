using Microsoft.Extensions.Logging;
using SecretsCache.Rotation;

namespace SecretsCache.Composition;

/// <summary>
/// What rotation handling and health checks need from a provider, reached through this interface and never through a cast to
/// <see cref="SecretProvider"/>. <see cref="SecretProvider"/> implements it from its runtime; a decorator (an L2 package's,
/// say) forwards it. An <see cref="ISecretProvider"/> that does not implement it gets the documented fallback of
/// <see cref="ProviderRuntime.Of"/>.
/// </summary>
internal interface IProviderRuntime
{
    /// <summary>The provider's clock: rotation re-checks wait on it.</summary>
    TimeProvider Time { get; }

    ILogger Logger { get; }

    /// <summary>The rotation pins of this provider, one set per provider.</summary>
    RotationState Rotation { get; }

    /// <summary>The provider's randomness (rotation re-check jitter), which a snapshot restore seeds again.</summary>
    Random Random { get; }

    /// <summary>The value-free cache snapshot, or null when the provider keeps none.</summary>
    SecretsCacheHealth? GetHealth();
}

internal static class ProviderRuntime
{
    /// <summary>
    /// The provider's runtime; for any other <see cref="ISecretProvider"/>: <see cref="TimeProvider.System"/>, no logging, no
    /// health snapshot, <see cref="System.Random.Shared"/>, and rotation pins kept for that provider instance for as long as it lives.
    /// </summary>
    public static IProviderRuntime Of(ISecretProvider provider) =>
        provider as IProviderRuntime ?? Foreign.GetValue(provider, static _ => new ForeignRuntime());

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ISecretProvider, ForeignRuntime> Foreign = new();

    private sealed class ForeignRuntime : IProviderRuntime
    {
        public TimeProvider Time => TimeProvider.System;

        public ILogger Logger => Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public RotationState Rotation { get; } = new();

        public Random Random => Random.Shared;

        public SecretsCacheHealth? GetHealth() => null;
    }
}

namespace SecretsCache.Tests.Support;

/// <summary>
/// Tests that install process-wide listeners (an <see cref="System.Diagnostics.ActivityListener"/>, or a meter listener for
/// providers without a factory), or that measure allocations which such a listener would cause, run alone, after the rest.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalListenersCollection
{
    public const string Name = "Global listeners";
}

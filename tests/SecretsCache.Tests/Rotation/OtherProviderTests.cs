using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using SecretsCache.Composition;
using SecretsCache.Rotation;
using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Rotation.Support;

namespace SecretsCache.Tests.Rotation;

/// <summary>
/// <c>ExecuteAsync</c> on an <see cref="ISecretProvider"/> that is not <see cref="SecretProvider"/>: a decorator that forwards
/// the provider's runtime waits on the provider's clock and shares its pins; any other implementation gets the documented
/// fallback (the system clock, pins of its own).
/// </summary>
public sealed class OtherProviderTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly StagedSecretSource _source;
    private readonly SecretProvider _inner;
    private readonly PasswordCheckingDatabase _database = new("p1");

    public OtherProviderTests()
    {
        _source = new StagedSecretSource(_time);
        _source.Put("app/db", "p1");
        _inner = new SecretProvider(_source, new SecretsCacheOptions { TtlJitter = 0, RefreshAheadFraction = 1, MinForcedRefreshInterval = TimeSpan.Zero }, _time);
    }

    public void Dispose() => _inner.Dispose();

    [Fact]
    public async Task A_decorator_that_forwards_the_runtime_rechecks_on_the_providers_clock()
    {
        var decorator = Decorator.Create(_inner, forwardRuntime: true);
        _database.Accept("p2"); // the database moved; AWSCURRENT has not yet
        var run = decorator.ExecuteAsync("app/db", (s, ct) => _database.QueryAsync(s, ct), new RotationOptions { TryPendingVersion = false, Random = () => 0.5 }).AsTask();

        // The first re-check finds the same version, so the executor waits for the next on the provider's fake clock.
        Assert.True(SpinWait.SpinUntil(() => _time.ActiveTimers > 0 || run.IsCompleted, TimeSpan.FromSeconds(30)), "no re-check delay was scheduled");
        Assert.False(run.IsCompleted);
        _source.Put("app/db", "p2");
        for (var i = 0; i < 20 && !run.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Yield();
            SpinWait.SpinUntil(() => run.IsCompleted, TimeSpan.FromMilliseconds(50));
        }

        Assert.Equal(42, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Same(RotationState.For(_inner), RotationState.For(decorator));
    }

    [Fact]
    public void Another_implementation_gets_the_system_clock_no_health_and_pins_of_its_own()
    {
        var first = Decorator.Create(_inner, forwardRuntime: false);
        var second = Decorator.Create(_inner, forwardRuntime: false);

        var runtime = ProviderRuntime.Of(first);
        Assert.Same(TimeProvider.System, runtime.Time);
        Assert.Null(runtime.GetHealth());
        Assert.Same(runtime.Rotation, ProviderRuntime.Of(first).Rotation);
        Assert.NotSame(runtime.Rotation, ProviderRuntime.Of(second).Rotation);
        Assert.NotSame(runtime.Rotation, RotationState.For(_inner));
        Assert.NotNull(ProviderRuntime.Of(_inner).GetHealth());
    }

    [Fact]
    public async Task Another_implementation_recovers_from_a_rotation_through_its_own_RefreshAsync()
    {
        var other = Decorator.Create(_inner, forwardRuntime: false);
        await other.GetAsync("app/db");
        _source.Put("app/db", "p2");
        _database.Accept("p2");

        Assert.Equal(42, await other.ExecuteAsync("app/db", (s, ct) => _database.QueryAsync(s, ct), new RotationOptions { TryPendingVersion = false }));
        Assert.Equal(1, _database.Refusals);
    }

    /// <summary>A user's own provider wrapping another; with <c>forwardRuntime</c>, it hands rotation the inner runtime.</summary>
    private class Decorator(SecretProvider inner) : ISecretProvider
    {
        protected SecretProvider Inner => inner;

        public event EventHandler<SecretChangedEventArgs>? SecretChanged
        {
            add => inner.SecretChanged += value;
            remove => inner.SecretChanged -= value;
        }

        public ValueTask<Secret> GetAsync(string reference, CancellationToken cancellationToken = default) => inner.GetAsync(reference, cancellationToken);

        public ValueTask<Secret> RefreshAsync(string reference, CancellationToken cancellationToken = default) => inner.RefreshAsync(reference, cancellationToken);

        public void Invalidate(string reference) => inner.Invalidate(reference);

        public void InvalidateAll() => inner.InvalidateAll();

        public Task<IReadOnlyDictionary<string, Secret>> GetPathAsync(string path, bool recursive = true, CancellationToken cancellationToken = default) =>
            inner.GetPathAsync(path, recursive, cancellationToken);

        public Task<WarmUpResult> WarmUpAsync(IEnumerable<string> references, CancellationToken cancellationToken = default) =>
            inner.WarmUpAsync(references, cancellationToken);

        public IChangeToken GetChangeToken(string reference) => inner.GetChangeToken(reference);

        public static ISecretProvider Create(SecretProvider inner, bool forwardRuntime) =>
            forwardRuntime ? new Forwarding(inner) : new Decorator(inner);

        private sealed class Forwarding(SecretProvider provider) : Decorator(provider), IProviderRuntime
        {
            private IProviderRuntime Runtime => Inner;

            public TimeProvider Time => Runtime.Time;

            public ILogger Logger => Runtime.Logger;

            public RotationState Rotation => Runtime.Rotation;

            public Random Random => Runtime.Random;

            public SecretsCacheHealth? GetHealth() => Runtime.GetHealth();
        }
    }
}

using System.Collections.Concurrent;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.IntegrationTests.Rotation.Support;
using SecretsCache.Rotation;
using SecretsCache.Testing;
using Xunit.Abstractions;

namespace SecretsCache.IntegrationTests.Rotation;

/// <summary>
/// Rotation handling over real HTTP against the emulator, with a password-checking test database. The provider runs on a
/// manual clock started at the real time (its signatures stay inside the emulator's five-minute window), so TTLs and
/// re-check pauses pass only when a test moves it.
/// </summary>
public sealed class EmulatorRotationTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private static readonly DbCredentials Old = new("app", "old-password");
    private static readonly DbCredentials New = new("app", "new-password");

    private AwsEmulator _aws = null!;
    private string _oldVersion = null!;
    private readonly PasswordCheckingDatabase _database = new(Old.Password);
    private readonly FakeTimeProvider _clock = new(TimeProvider.System.GetUtcNow());

    public async Task InitializeAsync()
    {
        _aws = await AwsEmulator.StartAsync();
        _aws.CreateSecret("app/db", Old.ToJson());
        _oldVersion = _aws.PutSecretValue("app/db", Old.ToJson()); // An explicit first version whose id the tests know.
    }

    public async Task DisposeAsync() => await _aws.DisposeAsync();

    private SecretProvider Provider(Action<SecretsCacheOptions>? configure = null)
    {
        var options = new SecretsCacheOptions().UseEmulator(_aws);
        configure?.Invoke(options);
        return new SecretProvider(options, timeProvider: _clock);
    }

    private ValueTask<string> Query(ISecretProvider provider, RotationOptions? options = null) =>
        provider.ExecuteAsync("app/db", (secret, ct) => _database.QueryAsync(secret, ct), options);

    [Fact]
    public async Task A_rotation_while_the_app_holds_the_old_value_is_recovered_on_the_next_call_with_exactly_one_extra_GetSecretValue()
    {
        using var provider = Provider();
        await Query(provider);
        _aws.Requests.Reset();

        _aws.PutSecretValue("app/db", New.ToJson()); // The rotation: new AWSCURRENT...
        _database.Accept(New.Password);               // ...and the database changed.

        Assert.Equal("rows for app", await Query(provider));
        Assert.Equal(1, _aws.Requests.Count(GetSecretValue));
        Assert.Equal(1, _database.Refusals);
        Assert.Equal("rows for app", await Query(provider));
        Assert.Equal(1, _aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task In_the_rotation_window_the_AWSPENDING_version_works_until_AWSCURRENT_moves()
    {
        using var provider = Provider(o => o.DefaultTtl = TimeSpan.FromSeconds(1));
        await Query(provider);

        // The rotation has created AWSPENDING and changed the database, but not yet moved AWSCURRENT.
        var newVersion = _aws.PutSecretValue("app/db", New.ToJson(), null, "AWSPENDING");
        _database.Accept(New.Password);
        _aws.Requests.Reset();

        Assert.Equal("rows for app", await Query(provider));
        Assert.Equal(2, _aws.Requests.Count(GetSecretValue)); // AWSCURRENT (unchanged), then AWSPENDING.
        Assert.True(RotationState.For(provider).TryGetPin("sm:app/db", out var refused));
        Assert.Equal(_oldVersion, refused);
        Assert.Equal("rows for app", await Query(provider)); // Straight to AWSPENDING: no refusal.
        Assert.Equal(1, _database.Refusals);

        // The rotation finishes. Once the cache sees the new AWSCURRENT, the pin is dropped.
        _aws.UpdateSecretVersionStage("app/db", "AWSCURRENT", newVersion, _oldVersion);
        _clock.Advance(TimeSpan.FromSeconds(1)); // the TTL
        Secret? used = null;
        await provider.ExecuteAsync("app/db", (secret, ct) =>
        {
            used = secret;
            return _database.QueryAsync(secret, ct);
        });

        Assert.Equal(newVersion, used!.VersionId);
        Assert.Contains("AWSCURRENT", used.VersionStages);
        Assert.False(RotationState.For(provider).TryGetPin("sm:app/db", out _));
        Assert.Equal(1, _database.Refusals);
    }

    [Fact]
    public async Task A_permanently_wrong_credential_fails_after_the_budget_and_backend_calls_are_bounded_by_the_rate_limit_not_the_callers()
    {
        var interval = TimeSpan.FromMilliseconds(500);
        var budget = TimeSpan.FromSeconds(2);
        using var provider = Provider(o =>
        {
            o.MinForcedRefreshInterval = interval;
            o.RateLimits.SecretsManagerRequestsPerSecond = 0; // no refill timers: the only short timers are the callers' pauses
        });
        await Query(provider);
        _database.Accept("nobody-has-this");
        _aws.Requests.Reset();
        var options = new RotationOptions { TimeBudget = budget, RecheckDelay = TimeSpan.FromMilliseconds(100), MaxRecheckDelay = interval };

        var took = new ConcurrentBag<TimeSpan>();
        var callers = Enumerable.Range(0, 200).Select(_ => Task.Run(async () =>
        {
            var started = _clock.GetUtcNow();
            try
            {
                return await Query(provider, options);
            }
            finally
            {
                took.Add(_clock.GetUtcNow() - started);
            }
        })).ToArray();

        // The clock moves only once all 200 wait on it: they start their budgets at one instant and end exactly at it.
        var elapsed = await ClockDriver.RunAsync(_clock, callers, interval, TimeSpan.FromMinutes(1));

        Assert.Equal(budget, elapsed);
        Assert.All(took, t => Assert.True(t >= budget, $"failed after {t}, before the budget"));
        Assert.All(callers, c => Assert.IsType<SecretRotationException>(c.Exception!.InnerException));
        var errors = callers.Select(c => (SecretRotationException)c.Exception!.InnerException!).ToList();
        Assert.All(errors, e => Assert.Equal(1, e.Attempts)); // Nothing new was ever found to try.
        Assert.All(errors, e => Assert.IsType<InvalidPasswordException>(e.InnerException));

        // Two references (AWSCURRENT and AWSPENDING), each forced at most once per 500 ms over the 2 s: at 0, 0.5, ... 2 s.
        const int Bound = 2 * 5;
        var calls = _aws.Requests.Count(GetSecretValue);
        output.WriteLine($"200 callers, {elapsed.TotalSeconds:0.00} s of fake time: {calls} GetSecretValue calls (bound {Bound})");
        Assert.InRange(calls, 2, Bound);
        Assert.True(calls < 200, $"{calls} GetSecretValue calls for 200 callers");
    }

    [Fact]
    public async Task Five_hundred_concurrent_failing_callers_share_a_single_fetch()
    {
        using var provider = Provider();
        await Query(provider);
        _aws.PutSecretValue("app/db", New.ToJson());
        _database.Accept(New.Password);
        _aws.Requests.Reset();

        // Hold every first login until all 500 callers hold the old value, so they all fail together.
        var arrived = 0;
        var allArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _database.BeforeLogin = credentials =>
        {
            if (credentials.Password != Old.Password)
            {
                return Task.CompletedTask;
            }

            if (Interlocked.Increment(ref arrived) == 500)
            {
                allArrived.SetResult();
            }

            return allArrived.Task;
        };

        var results = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => Task.Run(async () => await Query(provider))));

        Assert.All(results, r => Assert.Equal("rows for app", r));
        Assert.Equal(500, _database.Refusals);
        Assert.Equal(1, _aws.Requests.Count(GetSecretValue));
        Assert.Equal(1, _aws.Requests.Total);
    }

    [Fact]
    public async Task Change_notifications_fire_exactly_once_per_version_change()
    {
        using var provider = Provider(o => o.MinForcedRefreshInterval = TimeSpan.Zero); // Every refresh fetches: many fetches see each change.
        var events = new ConcurrentQueue<SecretChangedEventArgs>();
        provider.SecretChanged += (_, e) => events.Enqueue(e);
        var tokenFired = 0;
        await provider.GetAsync("app/db");
        var token = provider.GetChangeToken("app/db");
        using var registration = token.RegisterChangeCallback(_ => Interlocked.Increment(ref tokenFired), null);

        var v2 = _aws.PutSecretValue("app/db", New.ToJson());
        await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Task.Run(async () => await provider.RefreshAsync("app/db"))));
        var v3 = _aws.PutSecretValue("app/db", Old.ToJson());
        await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Task.Run(async () => await provider.RefreshAsync("sm:app/db"))));

        Assert.Collection(
            events,
            e => Assert.Equal(("sm:app/db", _oldVersion, v2), (e.Reference, e.OldVersion, e.NewVersion)),
            e => Assert.Equal(("sm:app/db", v2, v3), (e.Reference, e.OldVersion, e.NewVersion)));
        Assert.Equal(1, tokenFired);
        Assert.True(token.HasChanged);
    }
}

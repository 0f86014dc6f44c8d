using SecretsCache.Rotation;
using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Rotation.Support;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Rotation;

public sealed class ExecuteAsyncTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    // A re-check waits at most MaxRecheckDelay (5 s by default); the engine's fetch timeout (30 s) lies beyond.
    private static readonly TimeSpan Horizon = new RotationOptions().MaxRecheckDelay;

    private readonly FakeTimeProvider _time = new();
    private readonly StagedSecretSource _source;
    private readonly SecretProvider _provider;
    private readonly PasswordCheckingDatabase _database = new("p1");
    private readonly string _v1;

    public ExecuteAsyncTests()
    {
        _source = new StagedSecretSource(_time);
        _v1 = _source.Put("app/db", "p1");
        _provider = new SecretProvider(_source, new SecretsCacheOptions { TtlJitter = 0, RefreshAheadFraction = 1 }, _time);
    }

    public void Dispose() => _provider.Dispose();

    private static RotationOptions Options(TimeSpan? budget = null) => new() { TimeBudget = budget ?? TimeSpan.FromSeconds(30), Random = () => 0.5 };

    private ValueTask<int> Query(RotationOptions? options = null, CancellationToken cancellationToken = default) =>
        _provider.ExecuteAsync("app/db", (secret, ct) => _database.QueryAsync(secret, ct), options ?? Options(), cancellationToken);

    [Fact]
    public async Task Without_a_failure_the_operation_runs_once_with_the_cached_value()
    {
        Assert.Equal(42, await Query());
        Assert.Equal(42, await Query());
        Assert.Equal(1, _source.TotalCalls);
        Assert.Equal(2, _database.Logins);
    }

    [Fact]
    public async Task A_non_authentication_exception_passes_through_untouched_on_the_first_attempt()
    {
        var thrown = new TimeoutException("the database is slow");
        var calls = 0;

        var caught = await Assert.ThrowsAsync<TimeoutException>(async () => await _provider.ExecuteAsync<int>("app/db", (_, _) =>
        {
            calls++;
            throw thrown;
        }, Options()));

        Assert.Same(thrown, caught);
        Assert.Equal(1, calls);
        Assert.Equal(1, _source.TotalCalls); // No refresh.
    }

    [Fact]
    public async Task A_rotation_while_the_app_holds_the_old_value_is_recovered_with_one_extra_fetch()
    {
        await Query();
        var v2 = _source.Put("app/db", "p2");
        _database.Accept("p2");

        Assert.Equal(42, await Query());
        Assert.Equal(2, _source.Calls("app/db"));
        Assert.Equal(0, _source.Calls("app/db?stage=AWSPENDING")); // A new AWSCURRENT was found first.
        Assert.Equal(v2, (await _provider.GetAsync("app/db")).VersionId);
        Assert.Equal(42, await Query());
        Assert.Equal(2, _source.Calls("app/db"));
    }

    [Fact]
    public async Task The_non_generic_overload_recovers_the_same_way()
    {
        await Query();
        _source.Put("app/db", "p2");
        _database.Accept("p2");
        var ran = 0;

        await _provider.ExecuteAsync("app/db", async (secret, ct) =>
        {
            ran++;
            await _database.QueryAsync(secret, ct);
        }, Options());

        Assert.Equal(2, ran);
    }

    [Fact]
    public async Task A_thousand_concurrent_failures_cause_one_fetch()
    {
        await Query();
        _source.Put("app/db", "p2");
        _database.Accept("p2");
        _source.Hold();

        var callers = Enumerable.Range(0, 1000).Select(_ => Task.Run(async () => await Query())).ToArray();
        Eventually.True(() => _database.Refusals == 1000, "every caller to fail with the old value (the one refresh they wait on is held)");
        Assert.Equal(2, _source.TotalCalls); // the initial fetch and the one held refresh, which the refused callers share

        _source.Release();
        var results = await Task.WhenAll(callers);

        Assert.All(results, r => Assert.Equal(42, r));
        Assert.Equal(2, _source.Calls("app/db")); // The initial fetch and one forced refresh.
        Assert.Equal(2, _source.TotalCalls);
        Assert.Equal(1000, _database.Refusals);
    }

    [Fact]
    public async Task Mid_rotation_the_pending_version_is_used_until_AWSCURRENT_moves()
    {
        await Query();
        var v2 = _source.Put("app/db", "p2", "AWSPENDING");
        _database.Accept("p2"); // The rotation changed the database but has not moved AWSCURRENT yet.

        Assert.Equal(42, await Query());
        Assert.Equal(1, _source.Calls("app/db?stage=AWSPENDING"));
        Assert.True(RotationState.For(_provider).TryGetPin("sm:app/db", out var refused));
        Assert.Equal(_v1, refused);

        // While AWSCURRENT stays at the refused version, calls use the pending value at once, with no backend call or refusal.
        var fetches = _source.TotalCalls;
        var refusals = _database.Refusals;
        Assert.Equal(42, await Query());
        Assert.Equal(fetches, _source.TotalCalls);
        Assert.Equal(refusals, _database.Refusals);

        // The rotation finishes; once a refresh shows the new AWSCURRENT, the pin is dropped and the current value used.
        _source.MoveStage("app/db", "AWSCURRENT", v2);
        _source.RemoveStage("app/db", "AWSPENDING");
        _time.Advance(TimeSpan.FromMinutes(5));
        Secret? used = null;
        await _provider.ExecuteAsync("app/db", (secret, ct) =>
        {
            used = secret;
            return _database.QueryAsync(secret, ct);
        }, Options());

        Assert.Equal(v2, used!.VersionId);
        Assert.Contains("AWSCURRENT", used.VersionStages);
        Assert.False(RotationState.For(_provider).TryGetPin("sm:app/db", out _));
    }

    [Fact]
    public async Task A_missing_pending_version_is_skipped_and_rechecks_find_the_new_value_later()
    {
        await Query();
        _database.Accept("p2"); // The database moved on; Secrets Manager has not caught up yet.
        var query = Query().AsTask();
        Eventually.True(() => ClockDriver.Parked(_time, [query], Horizon), "the query to wait for its first re-check");
        Assert.False(query.IsCompleted);
        Assert.Equal(1, _source.Calls("app/db?stage=AWSPENDING")); // Not found: skipped.

        var v2 = _source.Put("app/db", "p2");
        await ClockDriver.RunAsync(_time, query, Horizon, Limit);

        Assert.Equal(42, await query);
        Assert.Equal(v2, (await _provider.GetAsync("app/db")).VersionId);
    }

    [Fact]
    public async Task A_permanently_wrong_credential_fails_after_the_budget_with_the_attempt_count()
    {
        await Query();
        _database.Accept("something else");
        var query = Query(Options(TimeSpan.FromSeconds(30))).AsTask();

        var elapsed = await ClockDriver.RunAsync(_time, query, Horizon, Limit);
        var error = await Assert.ThrowsAsync<SecretRotationException>(() => query);

        Assert.Equal(TimeSpan.FromSeconds(30), elapsed); // the last pause ends exactly at the budget
        Assert.Equal(1, error.Attempts); // The value never changed and there is no AWSPENDING: nothing new to try.
        Assert.IsType<InvalidPasswordException>(error.InnerException);
        Assert.Equal("sm:app/db", error.Reference);
        Assert.Equal("AuthenticationFailed", error.ErrorCode);
        Assert.DoesNotContain("p1", error.Message, StringComparison.Ordinal);

        // Forced refreshes are rate-limited: at most one per 5 s interval over 30 s (at 0, 5, ... 30 s), plus the initial fetch.
        Assert.InRange(_source.Calls("app/db"), 2, 1 + 7);
        Assert.InRange(_source.Calls("app/db?stage=AWSPENDING"), 1, 7);
    }

    [Fact]
    public async Task Two_hundred_callers_with_a_wrong_credential_cost_no_more_backend_calls_than_one()
    {
        await Query();
        var pending = _source.Put("app/db", "also wrong", "AWSPENDING");
        _database.Accept("something else");
        var callers = Enumerable.Range(0, 200).Select(_ => Task.Run(async () => await Query(Options(TimeSpan.FromSeconds(10))))).ToArray();

        // The clock moves only once all 200 wait on it, so all start their 10 s budget at one instant and end at 10 s.
        var elapsed = await ClockDriver.RunAsync(_time, callers, Horizon, Limit);

        Assert.Equal(TimeSpan.FromSeconds(10), elapsed);
        Assert.All(callers, c => Assert.IsType<SecretRotationException>(c.Exception!.InnerException));
        Assert.All(callers, c => Assert.Equal(2, ((SecretRotationException)c.Exception!.InnerException!).Attempts)); // Current, then pending.
        Assert.Equal(400, _database.Refusals);

        // At most one forced refresh per reference per 5 s interval over the 10 s (at 0, 5 and 10 s), however many callers.
        Assert.InRange(_source.Calls("app/db"), 2, 1 + 3);
        Assert.InRange(_source.Calls("app/db?stage=AWSPENDING"), 1, 3);
        var fetches = _source.TotalCalls;
        Assert.Equal(pending, (await _provider.GetAsync("app/db?stage=AWSPENDING")).VersionId); // the pending version read is cached
        Assert.Equal(fetches, _source.TotalCalls);
    }

    [Fact]
    public async Task A_zero_budget_checks_once_and_does_not_wait()
    {
        await Query();
        _database.Accept("something else");

        var error = await Assert.ThrowsAsync<SecretRotationException>(async () => await Query(Options(TimeSpan.Zero)));
        Assert.Equal(1, error.Attempts);
        Assert.Equal(0, _time.ActiveTimers);
    }

    [Fact]
    public async Task Without_TryPendingVersion_the_pending_version_is_never_read()
    {
        await Query();
        _source.Put("app/db", "p2", "AWSPENDING");
        _database.Accept("p2");
        var options = Options(TimeSpan.Zero);
        options.TryPendingVersion = false;

        await Assert.ThrowsAsync<SecretRotationException>(async () => await Query(options));
        Assert.Equal(0, _source.Calls("app/db?stage=AWSPENDING"));
    }

    [Fact]
    public void Parameter_Store_references_have_no_pending_version()
    {
        Assert.Null(RotationExecutor.PendingReferenceOf(SecretReference.Parse("ssm:/app/db/password")));
        Assert.Null(RotationExecutor.PendingReferenceOf(SecretReference.Parse("app/db?stage=AWSPREVIOUS")));
        Assert.Equal("sm:app/db?stage=AWSPENDING", RotationExecutor.PendingReferenceOf(SecretReference.Parse("app/db")));
        Assert.Equal(
            "ssm:/aws/reference/secretsmanager/app/db:AWSPENDING",
            RotationExecutor.PendingReferenceOf(SecretReference.Parse("/aws/reference/secretsmanager/app/db")));
        Assert.Equal("AWSPENDING", SecretReference.Parse(RotationExecutor.PendingReferenceOf(SecretReference.Parse("/aws/reference/secretsmanager/app/db"))!).VersionStage);
    }

    [Fact]
    public async Task A_non_authentication_exception_on_a_retry_also_passes_through()
    {
        await Query();
        _source.Put("app/db", "p2");
        var attempt = 0;

        await Assert.ThrowsAsync<TimeoutException>(async () => await _provider.ExecuteAsync<int>("app/db", (secret, ct) =>
        {
            if (++attempt == 1)
            {
                throw new InvalidPasswordException();
            }

            throw new TimeoutException();
        }, Options()));
        Assert.Equal(2, attempt);
    }

    [Fact]
    public async Task Cancelling_during_the_rechecks_stops_at_once()
    {
        await Query();
        _database.Accept("something else");
        using var cancel = new CancellationTokenSource();
        var query = Query(Options(), cancel.Token).AsTask();
        Eventually.True(() => ClockDriver.Parked(_time, [query], Horizon), "the query to wait for its first re-check");
        Assert.False(query.IsCompleted);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => query);
    }

    [Fact]
    public async Task A_deleted_secret_surfaces_as_not_found_rather_than_as_a_rotation_failure()
    {
        await Query();
        _database.Accept("something else");
        _source.Fail = r => new SecretNotFoundException("gone", r.ToString());

        await Assert.ThrowsAsync<SecretNotFoundException>(async () => await Query());
    }

    [Fact]
    public async Task Invalid_options_are_refused()
    {
        var options = new RotationOptions { RecheckDelay = TimeSpan.Zero };
        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await _provider.ExecuteAsync("app/db", (_, _) => ValueTask.FromResult(1), options));
        Assert.Equal("options", error.ParamName);
        Assert.Empty(new RotationOptions().Validate());
    }
}

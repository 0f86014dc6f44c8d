using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Rotation.Support;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Rotation;

/// <summary>Every rotation log message (event ids 100-106) names references, versions and error types, never a value.</summary>
public sealed class RotationLoggingTests : IDisposable
{
    private const string Current = "pw-current-Q1x7";
    private const string Pending = "pw-pending-Q2y8";
    private const string Next = "pw-next-Q3z9";

    private readonly FakeTimeProvider _time = new();
    private readonly StagedSecretSource _source;
    private readonly FakeLoggerProvider _logs = new();
    private readonly SecretProvider _provider;
    private readonly PasswordCheckingDatabase _database = new(Current);

    public RotationLoggingTests()
    {
        _source = new StagedSecretSource(_time);
        _source.Put("app/db", Current);
        _provider = new SecretProvider(_source, new SecretsCacheOptions { TtlJitter = 0, RefreshAheadFraction = 1 }, _time, LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs)));
    }

    public void Dispose()
    {
        _provider.Dispose();
        _logs.Dispose();
    }

    private Task<int> Query(TimeSpan budget) => _provider.ExecuteAsync(
        "app/db", (secret, ct) => _database.QueryAsync(secret, ct), new RotationOptions { TimeBudget = budget, Random = () => 0.5 }).AsTask();

    [Fact]
    public async Task A_whole_rotation_and_a_wrong_credential_log_every_rotation_message_and_no_value()
    {
        _provider.SecretChanged += (_, e) => throw new InvalidOperationException($"pool reset failed for {e.Reference}");
        Assert.Equal(42, await Query(TimeSpan.Zero));

        // Mid-rotation: the database takes the AWSPENDING password, AWSCURRENT has not moved (101, 102, 103).
        _source.Put("app/db", Pending, "AWSPENDING");
        _database.Accept(Pending);
        Assert.Equal(42, await Query(TimeSpan.Zero));

        // The password is then simply wrong; the pending version's re-checks fail transiently (106), the forced refreshes
        // are limited (100), and the budget runs out (104).
        _database.Accept("nobody-has-this");
        _source.Fail = r => r.VersionStage == "AWSPENDING" ? Errors.Throttled(r) : null;
        var wrong = Query(TimeSpan.FromSeconds(10));
        await ClockDriver.RunAsync(_time, wrong, new RotationOptions().MaxRecheckDelay, TimeSpan.FromMinutes(1));
        await Assert.ThrowsAsync<SecretRotationException>(() => wrong);

        // The rotation finishes with a new AWSCURRENT, whose change handler throws (105).
        _source.Fail = null;
        _source.Put("app/db", Next);
        _database.Accept(Next);
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(42, await Query(TimeSpan.Zero));

        var rotation = _logs.Collector.GetSnapshot().Where(r => r.Id.Id is >= 100 and <= 119).ToList();
        Assert.Equal([100, 101, 102, 103, 104, 105, 106], rotation.Select(r => r.Id.Id).Distinct().Order());
        Assert.All(rotation, r => Assert.Contains("sm:app/db", r.Message, StringComparison.Ordinal));
        foreach (var record in _logs.Collector.GetSnapshot())
        {
            foreach (var value in (string[])[Current, Pending, Next])
            {
                Assert.DoesNotContain(value, record.Message, StringComparison.Ordinal);
                Assert.DoesNotContain(record.StructuredState ?? [], kv => kv.Value?.ToString()?.Contains(value, StringComparison.Ordinal) == true);
                Assert.DoesNotContain(value, record.Exception?.ToString() ?? string.Empty, StringComparison.Ordinal);
            }
        }
    }
}

using Microsoft.Extensions.Logging.Testing;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.IntegrationTests.Provider.Support;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>
/// <see cref="RetryOptions.TotalTimeout"/> over real HTTP: an emulator whose clock stands still holds a request in its
/// injected latency for as long as the test likes, and the provider's budget runs on a clock of its own.
/// </summary>
public sealed class RetryBudgetTests
{
    [Fact]
    public async Task An_attempt_AWS_never_answers_ends_at_the_retry_budget_with_a_typed_error_and_no_retry()
    {
        await using var aws = await HangingAws.StartAsync("app/slow", "slow-value");
        var (awsClock, clock, options) = (aws.AwsClock, aws.Clock, aws.Options());
        options.Retry.MaxRetryAttempts = 5;
        options.Retry.TotalTimeout = TimeSpan.FromSeconds(2);
        options.Aws.AttemptTimeout = TimeSpan.FromSeconds(10);
        options.FetchTimeout = TimeSpan.FromMinutes(1);
        var logs = new FakeLoggerProvider();
        using var provider = new SecretProvider(options, null, FakeLogs.Factory(logs), clock);

        var read = provider.GetAsync("app/slow").AsTask();
        await awsClock.WaitForTimerAsync(); // the request reached the emulator, which holds it
        clock.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromTicks(1));
        Assert.False(read.IsCompleted);
        clock.Advance(TimeSpan.FromTicks(1));

        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => read.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("RetryBudgetExhausted", error.ErrorCode);
        Assert.True(error.IsTransient);
        Assert.Equal("sm:app/slow", error.Reference);
        Assert.Contains("within the retry budget of 2 s", error.Message, StringComparison.Ordinal);
        Assert.Contains("Retry.TotalTimeout", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, awsClock.TimersCreated); // one attempt: the budget left no time for the five retries (nor its own 10 s)
        NoValueLeaks.InException(error, "slow-value");
        NoValueLeaks.InLogs(logs, "slow-value");
    }
}

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Diagnostics;

namespace SecretsCache.Redis.Tests.Connection;

/// <summary>
/// The breaker's first break is short (<see cref="RedisCircuitBreakerOptions.FirstBreakDuration"/>) and doubles with each
/// failed trial, up to <see cref="RedisCircuitBreakerOptions.BreakDuration"/>: a deploy's burst of timeouts kept an
/// instance off Redis for the whole 5 s, which was the fleet benchmark's deploy tail.
/// </summary>
public sealed class BreakScheduleTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(250);

    [Theory]
    [InlineData(1000, 5000, 0, 1000)]
    [InlineData(1000, 5000, 1, 2000)]
    [InlineData(1000, 5000, 2, 4000)]
    [InlineData(1000, 5000, 3, 5000)]
    [InlineData(1000, 5000, 40, 5000)]
    [InlineData(8000, 5000, 0, 5000)] // a first break longer than the longest is the longest
    public void Each_failed_trial_doubles_the_break_up_to_BreakDuration(int firstMs, int longestMs, int failedTrials, int expectedMs)
    {
        var options = new RedisCircuitBreakerOptions { FirstBreakDuration = TimeSpan.FromMilliseconds(firstMs), BreakDuration = TimeSpan.FromMilliseconds(longestMs) };
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), options.BreakAfter(failedTrials));
    }

    /// <summary>
    /// A connection has two breakers (entries, leases and messages; the fleet limit), and each used to log that "the second
    /// level is skipped, reads go to AWS, the fleet limit falls back to the static share", which is true of neither alone.
    /// </summary>
    [Theory]
    [InlineData(false, "reads go to AWS", "static share")]
    [InlineData(true, "static share", "reads go to AWS")]
    public async Task Each_breaker_says_which_calls_it_skips_when_it_opens_and_closes(bool fleetLimit, string says, string doesNotSay)
    {
        var calls = fleetLimit ? GuardedCalls.FleetLimit : GuardedCalls.Entries;
        var time = new FakeTimeProvider();
        using var metrics = new RedisL2Metrics();
        var logs = new FakeLogCollector();
        using var logger = new FakeLoggerProvider(logs);
        var guard = new RedisGuard(new RedisCircuitBreakerOptions(), Timeout, time, metrics, logger.CreateLogger("guard"), calls);
        var answers = false;
        async Task CallAsync()
        {
            var call = guard.RunAsync("call", 0, _ => answers ? Task.FromResult(1) : new TaskCompletionSource<int>().Task, CancellationToken.None).AsTask();
            if (!call.IsCompleted)
            {
                time.Advance(Timeout);
            }

            await call;
        }

        for (var i = 0; i < new RedisCircuitBreakerOptions().MinimumThroughput; i++)
        {
            await CallAsync();
        }

        time.Advance(TimeSpan.FromSeconds(1));
        answers = true;
        await CallAsync();

        var opened = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 101).Message;
        Assert.Contains(says, opened, StringComparison.Ordinal);
        Assert.DoesNotContain(doesNotSay, opened, StringComparison.Ordinal);
        var closed = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 102).Message;
        Assert.Contains(calls == GuardedCalls.Entries ? "entry" : "fleet-limit", closed, StringComparison.Ordinal);
    }

    /// <summary>
    /// By default a handful of timeouts in an instance's first calls (a deploy's burst: a warm-up makes about four calls, each
    /// for all its keys) does not open the breaker: an open breaker sends every key of the instance to AWS, a closed one costs
    /// a call's timeout. With 4 as the least sample, two timeouts of four opened it: in the fleet benchmark, open breakers
    /// refused 76–133 reads per deploy of 500 instances, whose keys then made most of the deploy's AWS requests and its
    /// failed cold reads.
    /// </summary>
    [Fact]
    public async Task By_default_two_timeouts_among_an_instances_first_calls_leave_the_breaker_closed()
    {
        var time = new FakeTimeProvider();
        using var metrics = new RedisL2Metrics();
        var guard = new RedisGuard(new RedisCircuitBreakerOptions(), Timeout, time, metrics, NullLogger.Instance, GuardedCalls.Entries);
        async Task<bool> CallAsync(bool answers)
        {
            var call = guard.RunAsync("l2_read", 0, _ => answers ? Task.FromResult(1) : new TaskCompletionSource<int>().Task, CancellationToken.None).AsTask();
            if (!call.IsCompleted)
            {
                time.Advance(Timeout);
            }

            return (await call).Ok;
        }

        Assert.True(await CallAsync(answers: true));
        Assert.True(await CallAsync(answers: true));
        Assert.False(await CallAsync(answers: false));
        Assert.False(await CallAsync(answers: false));

        Assert.False(guard.IsOpen);
        Assert.True(await CallAsync(answers: true)); // sent, not skipped
    }

    [Fact]
    public async Task The_breaker_skips_Redis_for_one_second_then_two_after_a_failed_trial_then_closes_on_an_answer()
    {
        var time = new FakeTimeProvider();
        using var metrics = new RedisL2Metrics();
        var guard = new RedisGuard(new RedisCircuitBreakerOptions(), Timeout, time, metrics, NullLogger.Instance, GuardedCalls.Entries);
        var sent = 0;
        var answers = false;

        async Task<bool> CallAsync()
        {
            var call = guard.RunAsync("l2_read", 0, _ =>
            {
                sent++;
                return answers ? Task.FromResult(1) : new TaskCompletionSource<int>().Task;
            }, CancellationToken.None).AsTask();
            if (!call.IsCompleted)
            {
                time.Advance(Timeout);
            }

            return (await call).Ok;
        }

        for (var i = 0; i < new RedisCircuitBreakerOptions().MinimumThroughput; i++)
        {
            Assert.False(await CallAsync());
        }

        Assert.True(guard.IsOpen);
        var opened = time.GetUtcNow();
        sent = 0;

        time.Advance(TimeSpan.FromSeconds(1) - Timeout - TimeSpan.FromTicks(1));
        Assert.False(await CallAsync());
        Assert.Equal(0, sent); // still open: skipped, nothing sent

        time.SetUtcNow(opened + TimeSpan.FromSeconds(1));
        Assert.False(await CallAsync()); // the trial: sent, and it times out
        Assert.Equal(1, sent);
        var reopened = time.GetUtcNow();

        time.SetUtcNow(reopened + TimeSpan.FromSeconds(2) - TimeSpan.FromTicks(1));
        Assert.False(await CallAsync());
        Assert.Equal(1, sent); // the second break is two seconds

        time.SetUtcNow(reopened + TimeSpan.FromSeconds(2));
        answers = true;
        Assert.True(await CallAsync());
        Assert.False(guard.IsOpen);
    }
}

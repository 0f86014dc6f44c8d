using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Diagnostics;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Connection;

/// <summary>
/// An answer that came within <see cref="RedisL2Options.OperationTimeout"/> is used even when this process picks it up only
/// after the timeout fired: in a burst (a fleet's deploy, a cold start's JIT) the thread pool runs both late, and the
/// fleet benchmark counted 439 of 632 "timeouts" of a deploy whose answer was already there. Each such timeout fed the
/// breaker, which then kept the instance off Redis for its whole break.
/// </summary>
public sealed class LateAnswerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(250);

    [Fact]
    public async Task An_answer_that_is_in_when_the_timeout_fires_is_the_result_and_is_no_error()
    {
        using var h = new Harness();
        var (time, errors, late) = (h.Time, h.Errors, h.Late);
        var guard = h.Guard();

        // The answer completes, its continuations queued to the thread pool, and then the clock reaches the timeout: which
        // of the two the guard sees first is the pool's to decide, so the race is run many times. Either way it is an answer.
        const int Calls = 200;
        for (var i = 0; i < Calls; i++)
        {
            var answer = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            var call = guard.RunAsync("l2_read", answer, static a => a.Task, CancellationToken.None).AsTask();
            answer.SetResult(i);
            time.Advance(Timeout);

            var result = await call;
            Assert.True(result.Ok, $"call {i} was answered but reported as failed");
            Assert.Equal(i, result.Value);
        }

        Assert.Empty(errors.GetMeasurementSnapshot());
        Assert.False(guard.IsOpen);
        Assert.NotEmpty(late.GetMeasurementSnapshot()); // the guard saw the timeout first at least once in 200 races
        Assert.All(late.GetMeasurementSnapshot(), m => Assert.Equal("l2_read", m.Tags[RedisL2Metrics.Operation]));
    }

    [Fact]
    public async Task A_call_with_no_answer_at_the_timeout_fails_then_and_not_before()
    {
        using var h = new Harness();
        var (time, errors, late) = (h.Time, h.Errors, h.Late);
        var guard = h.Guard();
        var answer = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = guard.RunAsync("l2_read", answer, static a => a.Task, CancellationToken.None).AsTask();
        time.Advance(Timeout - TimeSpan.FromTicks(1));
        Assert.False(call.IsCompleted);
        time.Advance(TimeSpan.FromTicks(1));
        var result = await call;
        answer.SetResult(1); // too late: the caller has moved on

        Assert.False(result.Ok);
        var error = Assert.Single(errors.GetMeasurementSnapshot());
        Assert.Equal(nameof(TimeoutException), error.Tags[RedisL2Metrics.ErrorType]);
        Assert.Empty(late.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task Timeouts_the_process_noticed_a_timeout_late_are_misses_that_do_not_open_the_breaker()
    {
        using var h = new Harness();
        var (time, errors, late) = (h.Time, h.Errors, h.Late);
        var guard = h.Guard();

        for (var i = 0; i < 10; i++)
        {
            var call = guard.RunAsync("l2_read", 0, static _ => new TaskCompletionSource<int>().Task, CancellationToken.None).AsTask();
            time.Advance(Timeout * 2); // the timer ran a whole timeout after its deadline
            Assert.False((await call).Ok);
        }

        Assert.False(guard.IsOpen);
        Assert.Equal(10, errors.GetMeasurementSnapshot().Count(m => Equals(m.Tags[RedisL2Metrics.ErrorType], nameof(ProcessBusyException))));
    }

    [Fact]
    public async Task Timeouts_noticed_on_time_open_the_breaker()
    {
        using var h = new Harness();
        var (time, errors, late) = (h.Time, h.Errors, h.Late);
        var guard = h.Guard();

        for (var i = 0; i < new RedisCircuitBreakerOptions().MinimumThroughput; i++)
        {
            var call = guard.RunAsync("l2_read", 0, static _ => new TaskCompletionSource<int>().Task, CancellationToken.None).AsTask();
            time.Advance(Timeout * 2 - TimeSpan.FromTicks(1));
            Assert.False((await call).Ok);
        }

        Assert.True(guard.IsOpen);
    }

    [Fact]
    public async Task A_timeout_waits_for_the_thread_pool_to_catch_up_and_takes_an_answer_that_was_queued_behind_it()
    {
        // The reply came before the deadline but sits in the pool's queue behind a burst: the guard asks the pool to catch
        // up (here a task the test completes), and what completed by then is the answer.
        using var h = new Harness();
        var (time, errors, late) = (h.Time, h.Errors, h.Late);
        var caughtUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var askedToCatchUp = 0;
        var guard = h.Guard(catchUp: () =>
        {
            Interlocked.Increment(ref askedToCatchUp);
            return caughtUp.Task;
        });
        var answer = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = guard.RunAsync("l2_read", answer, static a => a.Task, CancellationToken.None).AsTask();
        time.Advance(Timeout);
        await Wait.UntilAsync(() => Volatile.Read(ref askedToCatchUp) == 1, seconds: 30);
        Assert.False(call.IsCompleted);
        answer.SetResult(7);
        caughtUp.SetResult();

        var result = await call;
        Assert.True(result.Ok);
        Assert.Equal(7, result.Value);
        Assert.Empty(errors.GetMeasurementSnapshot());
        Assert.Single(late.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task A_pool_that_cannot_catch_up_within_another_timeout_makes_the_timeout_a_busy_process_miss()
    {
        using var h = new Harness();
        var (time, errors, late) = (h.Time, h.Errors, h.Late);
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var guard = h.Guard(catchUp: () =>
        {
            asked.TrySetResult();
            return new TaskCompletionSource().Task; // never catches up
        });

        var call = guard.RunAsync("l2_read", 0, static _ => new TaskCompletionSource<int>().Task, CancellationToken.None).AsTask();
        time.Advance(Timeout);
        await asked.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(call.IsCompleted);
        // The catch-up's own bound is set just after it is asked for: move the clock in steps until it has run out.
        await Wait.UntilAsync(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            return call.IsCompleted;
        }, seconds: 30);

        Assert.False((await call).Ok);
        var error = Assert.Single(errors.GetMeasurementSnapshot());
        Assert.Equal(nameof(ProcessBusyException), error.Tags[RedisL2Metrics.ErrorType]);
        Assert.False(guard.IsOpen);
    }

    /// <summary>A guard on a fake clock, with its error and late-answer counters.</summary>
    private sealed class Harness : IDisposable
    {
        private readonly RedisL2Metrics _metrics = new();

        public Harness()
        {
            Errors = new MetricCollector<long>(_metrics.Errors);
            Late = new MetricCollector<long>(_metrics.LateAnswers);
        }

        public FakeTimeProvider Time { get; } = new();

        public MetricCollector<long> Errors { get; }

        public MetricCollector<long> Late { get; }

        public RedisGuard Guard(Func<Task>? catchUp = null) =>
            new(new RedisCircuitBreakerOptions(), Timeout, Time, _metrics, NullLogger.Instance, GuardedCalls.Entries, catchUp: catchUp);

        public void Dispose()
        {
            Errors.Dispose();
            Late.Dispose();
            _metrics.Dispose();
        }
    }
}

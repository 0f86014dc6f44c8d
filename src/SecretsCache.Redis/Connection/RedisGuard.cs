using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using SecretsCache.Redis.Diagnostics;
using StackExchange.Redis;

namespace SecretsCache.Redis.Connection;

/// <summary>The outcome of a guarded Redis call: its value, or that Redis could not answer (never an exception).</summary>
internal readonly record struct Guarded<T>(bool Ok, T? Value)
{
    public static Guarded<T> Failed => default;
}

/// <summary>
/// Every Redis call of one connection goes through here: bounded by <see cref="RedisL2Options.OperationTimeout"/> and a Polly
/// circuit breaker, so a failing, slow or absent Redis costs callers at most one timeout, then nothing while the breaker is
/// open. A call while the connection is known to be down is not sent at all (nor counted by the breaker), and the breaker
/// closes when the connection is restored: the second level resumes with Redis, not a break later. An answer that is in once
/// the process has caught up with its own work is used; a timeout that the process took another timeout to judge
/// (<see cref="ProcessBusyException"/>) is a miss the breaker does not count. Failures become
/// <see cref="Guarded{T}.Failed"/>; only the caller's own cancellation is thrown.
/// </summary>
internal sealed class RedisGuard
{
    /// <summary>The <c>error.type</c> of a call skipped because the connection is known to be down.</summary>
    public const string Disconnected = "Disconnected";

    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _state = new();
    private readonly CircuitBreakerManualControl _control = new();
    private readonly Func<bool> _isDown;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly RedisL2Metrics _metrics;
    private readonly ILogger _logger;
    private readonly Func<Task> _catchUp;

    public RedisGuard(
        RedisCircuitBreakerOptions breaker, TimeSpan timeout, TimeProvider time, RedisL2Metrics metrics, ILogger logger, GuardedCalls calls,
        Func<bool>? isDown = null, Func<Task>? catchUp = null)
    {
        var (name, effect) = calls == GuardedCalls.FleetLimit
            ? ("fleet-limit", "the fleet limit falls back to the static share")
            : ("entry, lease and message", "reads go to AWS");
        _isDown = isDown ?? (static () => false);
        _catchUp = catchUp ?? ThreadPoolCatchUp;
        _timeout = timeout;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = breaker.FailureRatio,
                MinimumThroughput = breaker.MinimumThroughput,
                SamplingDuration = breaker.SamplingDuration,
                BreakDuration = breaker.BreakDuration,
                BreakDurationGenerator = args => ValueTask.FromResult(breaker.BreakAfter(args.HalfOpenAttempts)),
                StateProvider = _state,
                ManualControl = _control,
                // RedisException covers connection and server errors; RedisTimeoutException and our own timeout are TimeoutExceptions.
                // WRONGTYPE is Redis answering about one key (another type planted under its name): a miss, not a failing Redis.
                ShouldHandle = new PredicateBuilder().Handle<RedisException>(static ex => !IsAboutOneKey(ex)).Handle<TimeoutException>(),
                OnOpened = args =>
                {
                    RedisLog.CircuitOpened(_logger, name, args.BreakDuration.TotalSeconds, effect);
                    return default;
                },
                OnClosed = _ =>
                {
                    RedisLog.CircuitClosed(_logger, name);
                    return default;
                },
            })
            .Build();
    }

    private static bool IsAboutOneKey(RedisException error) =>
        error is RedisServerException && error.Message.Contains("WRONGTYPE", StringComparison.Ordinal);

    /// <summary>Whether the breaker is skipping Redis now.</summary>
    public bool IsOpen => _state.CircuitState is CircuitState.Open or CircuitState.Isolated;

    /// <summary>Whether a call now would not reach Redis: the connection is known to be down, or the breaker is open.</summary>
    public bool Skips => _isDown() || IsOpen;

    /// <summary>
    /// Like <see cref="RunAsync"/>, but a call Redis did not answer while the connection is up and the breaker closed (a busy
    /// moment) is made once more, at most one more timeout: for a call whose failure costs more than a wait, such as one that
    /// sends every key of a warm-up to AWS. <paramref name="call"/> must be safe to repeat.
    /// </summary>
    public async ValueTask<Guarded<T>> RunAskingAgainAsync<TState, T>(string operation, TState state, Func<TState, Task<T>> call, CancellationToken cancellationToken)
    {
        var first = await RunAsync(operation, state, call, cancellationToken).ConfigureAwait(false);
        return first.Ok || Skips ? first : await RunAsync(operation, state, call, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<Guarded<T>> RunAsync<TState, T>(string operation, TState state, Func<TState, Task<T>> call, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_isDown())
        {
            _metrics.Error(operation, Disconnected);
            RedisLog.CallFailed(_logger, operation, Disconnected);
            return ValueTask.FromResult(Guarded<T>.Failed);
        }

        return RunCoreAsync(operation, state, call, _pipeline, _timeout, cancellationToken);
    }

    /// <summary>The connection is back: the breaker closes, whatever the outage made it count. In the background; never throws.</summary>
    public void Close() =>
        _ = _control.CloseAsync(CancellationToken.None).ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    /// <summary>
    /// Like <see cref="RunAsync"/>, but the breaker neither stops nor counts the call, and its budget is <paramref name="timeout"/>
    /// (a subscription, made once at start).
    /// </summary>
    public ValueTask<Guarded<T>> RunBypassingBreakerAsync<TState, T>(string operation, TState state, Func<TState, Task<T>> call, TimeSpan timeout, CancellationToken cancellationToken) =>
        RunCoreAsync(operation, state, call, ResiliencePipeline.Empty, timeout, cancellationToken);

    /// <summary>
    /// Whether <paramref name="task"/> succeeded once the work queued before its timeout has run (<c>catchUp</c>, waited for at
    /// most <paramref name="bound"/>) and, when catching up took a while, within as long again (at most <paramref name="bound"/>):
    /// a busy pool delays the sending of a command as much as the reading of its reply, so the call gets back the time the
    /// process took from it. An idle pool catches up at once, so a Redis that did not answer costs no more.
    /// </summary>
    /// <returns>Whether it succeeded, and how long catching up took (the extra wait not included).</returns>
    private async ValueTask<(bool Answered, TimeSpan Lag)> CaughtUpAsync(Task task, TimeSpan bound, CancellationToken cancellationToken)
    {
        if (task.IsCompleted)
        {
            return (task.IsCompletedSuccessfully, TimeSpan.Zero); // in already: only its continuation ran late
        }

        var started = _time.GetTimestamp();
        var lag = TimeSpan.Zero;
        try
        {
            try
            {
                await Task.WhenAny(task, _catchUp()).WaitAsync(bound, _time, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                lag = _time.GetElapsedTime(started);
            }

            if (!task.IsCompleted && lag > TimeSpan.Zero)
            {
                await task.WaitAsync(lag < bound ? lag : bound, _time, cancellationToken).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // Only whether it succeeded matters here; the caller observes the rest.
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
        }

        return (task.IsCompletedSuccessfully, lag);
    }

    /// <summary>Completes once a work item queued now at the back of the thread pool's global queue has run, and its continuation after it.</summary>
    private static Task ThreadPoolCatchUp()
    {
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ThreadPool.UnsafeQueueUserWorkItem(static done => done.TrySetResult(), ran, preferLocal: false);
        return ran.Task;
    }

    private async ValueTask<Guarded<T>> RunCoreAsync<TState, T>(
        string operation, TState state, Func<TState, Task<T>> call, ResiliencePipeline pipeline, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            var value = await pipeline.ExecuteAsync(
                static async (context, token) =>
                {
                    var started = context.guard._time.GetTimestamp();
                    var task = context.call(context.state);
                    try
                    {
                        return await task.WaitAsync(context.timeout, context.guard._time, token).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                        // StackExchange.Redis sends and reads on the thread pool: in a burst (a fleet's deploy, a cold start's
                        // JIT) an answer may be in, or still queued behind the burst. Judge once the pool has caught up (at
                        // most one more timeout); an answer by then is not a failure of Redis.
                        var noticed = context.guard._time.GetElapsedTime(started);
                        var (answered, lag) = await context.guard.CaughtUpAsync(task, context.timeout, token).ConfigureAwait(false);
                        if (answered)
                        {
                            context.guard._metrics.LateAnswer(context.operation);
                            return task.Result;
                        }

                        // The command may still fail later; observe it so it is not an unobserved task exception.
                        _ = task.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                        if (noticed + lag >= context.timeout * 2)
                        {
                            // The process took at least one more timeout to notice, or to catch up (the extra wait it then
                            // gave the call not counted): that measures the process, not Redis.
                            throw new ProcessBusyException();
                        }

                        throw;
                    }
                },
                (call, state, timeout, operation, guard: this),
                cancellationToken).ConfigureAwait(false);
            return new Guarded<T>(true, value);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Whatever Redis or its client throws is a miss: Redis is never a new way to fail.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _metrics.Error(operation, ex);
            RedisLog.CallFailed(_logger, operation, ex.GetType().Name);
            return Guarded<T>.Failed;
        }
    }
}

/// <summary>Which of a connection's calls a guard watches: its breaker's log lines say which.</summary>
internal enum GuardedCalls
{
    /// <summary>Entries, leases and messages: an open breaker sends reads to AWS.</summary>
    Entries,

    /// <summary>The fleet limit's bucket and presence: an open breaker sends the limit to the static share.</summary>
    FleetLimit,
}

/// <summary>
/// A Redis call that timed out while this process was too busy to notice on time (its timeout ran at least one more timeout
/// late). A miss for the caller, like any timeout; the breaker does not count it, since it says nothing of Redis.
/// </summary>
#pragma warning disable CA1032, CA1064 // Internal, never thrown past the guard.
internal sealed class ProcessBusyException() : Exception("The process was too busy to take Redis's answer in time.");
#pragma warning restore CA1032, CA1064

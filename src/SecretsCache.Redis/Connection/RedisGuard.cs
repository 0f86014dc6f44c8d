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
/// closes when the connection is restored: the second level resumes with Redis, not a break later. An answer that came in
/// time is used even if the process takes it late; a timeout that the process itself noticed late (<see cref="ProcessBusyException"/>)
/// is a miss the breaker does not count. Failures become
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

    public RedisGuard(RedisCircuitBreakerOptions breaker, TimeSpan timeout, TimeProvider time, RedisL2Metrics metrics, ILogger logger, Func<bool>? isDown = null)
    {
        _isDown = isDown ?? (static () => false);
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
                ShouldHandle = new PredicateBuilder().Handle<RedisException>().Handle<TimeoutException>(),
                OnOpened = args =>
                {
                    RedisLog.CircuitOpened(_logger, args.BreakDuration.TotalSeconds);
                    return default;
                },
                OnClosed = _ =>
                {
                    RedisLog.CircuitClosed(_logger);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Whether the breaker is skipping Redis now.</summary>
    public bool IsOpen => _state.CircuitState is CircuitState.Open or CircuitState.Isolated;

    /// <summary>Whether a call now would not reach Redis: the connection is known to be down, or the breaker is open.</summary>
    public bool Skips => _isDown() || IsOpen;

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
                    catch (TimeoutException) when (task.IsCompletedSuccessfully)
                    {
                        // Redis answered in time; this process ran the answer's continuation late (a burst keeps the thread
                        // pool busy: a fleet's deploy, a cold start's JIT). An answer is not a failure of Redis.
                        context.guard._metrics.LateAnswer(context.operation);
                        return task.Result;
                    }
                    catch (TimeoutException)
                    {
                        // The command may still fail later; observe it so it is not an unobserved task exception.
                        _ = task.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                        if (context.guard._time.GetElapsedTime(started) >= context.timeout * 2)
                        {
                            // The timeout itself ran at least a timeout late: the process could not run its timers, nor read
                            // Redis's replies (StackExchange.Redis reads on the thread pool). That measures the process, not Redis.
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

/// <summary>
/// A Redis call that timed out while this process was too busy to notice on time (its timeout ran at least one more timeout
/// late). A miss for the caller, like any timeout; the breaker does not count it, since it says nothing of Redis.
/// </summary>
#pragma warning disable CA1032, CA1064 // Internal, never thrown past the guard.
internal sealed class ProcessBusyException() : Exception("The process was too busy to take Redis's answer in time.");
#pragma warning restore CA1032, CA1064

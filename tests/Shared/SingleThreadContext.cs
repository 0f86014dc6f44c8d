using System.Collections.Concurrent;

namespace SecretsCache.Tests.Support;

/// <summary>
/// A <see cref="SynchronizationContext"/> pumped by one dedicated thread, as a UI thread or classic ASP.NET's request context
/// is: everything posted to it runs on that thread, one item at a time. Blocking that thread on work whose continuation was
/// posted back to it is the classic deadlock the synchronous reads must avoid. Bounded: <see cref="RunAsync{T}"/> ends the pump.
/// </summary>
internal sealed class SingleThreadContext : SynchronizationContext, IDisposable
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = [];
    private readonly Thread _thread;
    private int _posted;

    private SingleThreadContext()
    {
        _thread = new Thread(Pump) { IsBackground = true, Name = "single-thread context" };
        _thread.Start();
    }

    /// <summary>Items posted so far (continuations that came back to the context included).</summary>
    public int Posted => Volatile.Read(ref _posted);

    /// <summary>The pump's thread id, to prove where code ran.</summary>
    public int ThreadId => _thread.ManagedThreadId;

    /// <summary>
    /// Runs <paramref name="body"/> on a new context's thread (with the context installed) and completes with its result once
    /// everything it started there has finished.
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<SingleThreadContext, Task<T>> body)
    {
        using var context = new SingleThreadContext();
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        context.Post(
            async _ =>
            {
                try
                {
                    done.SetResult(await body(context));
                }
                catch (Exception ex)
                {
                    done.SetException(ex);
                }
            },
            null);
        return await done.Task;
    }

    public override void Post(SendOrPostCallback d, object? state)
    {
        Interlocked.Increment(ref _posted);
        _queue.Add((d, state));
    }

    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("Send would block on the pump.");

    public override SynchronizationContext CreateCopy() => this;

    public void Dispose()
    {
        _queue.CompleteAdding();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
    }

    private void Pump()
    {
        SetSynchronizationContext(this);
        foreach (var (callback, state) in _queue.GetConsumingEnumerable())
        {
            callback(state);
        }
    }
}

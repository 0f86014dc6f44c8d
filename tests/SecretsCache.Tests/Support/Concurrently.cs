namespace SecretsCache.Tests.Support;

/// <summary>Starts many tasks together, so they hit the cache at once instead of one after another.</summary>
internal static class Concurrently
{
    /// <summary>
    /// Queues <paramref name="count"/> tasks on the thread pool, all parked on one start signal, then releases them together.
    /// Returns the tasks, which may still be running.
    /// </summary>
    public static Task<T>[] Start<T>(int count, Func<int, Task<T>> body)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = new Task<T>[count];
        for (var i = 0; i < count; i++)
        {
            var index = i;
            tasks[i] = Task.Run(async () =>
            {
                await start.Task;
                return await body(index);
            });
        }

        start.SetResult();
        return tasks;
    }

    /// <summary>
    /// Starts <paramref name="count"/> reads together, as <see cref="Start{T}"/> does, and returns once every one has made its
    /// call (so each is waiting on the fetch under way, or has finished); <paramref name="what"/> names that state for a failure.
    /// </summary>
    public static Task<T>[] StartAndWaitUntilCalled<T>(int count, Func<int, Task<T>> read, string what)
    {
        var called = 0;
        var tasks = Start(count, i =>
        {
            var task = read(i);
            Interlocked.Increment(ref called);
            return task;
        });
        Eventually.True(() => Volatile.Read(ref called) == count, what);
        return tasks;
    }

    /// <summary>Runs <paramref name="count"/> tasks together and returns each one's outcome (value or exception).</summary>
    public static async Task<Outcome<T>[]> RunAsync<T>(int count, Func<int, Task<T>> body)
    {
        var tasks = Start(count, async i =>
        {
            try
            {
                return new Outcome<T>(await body(i), null);
            }
            catch (Exception ex)
            {
                return new Outcome<T>(default, ex);
            }
        });
        return await Task.WhenAll(tasks);
    }
}

internal readonly record struct Outcome<T>(T? Value, Exception? Error);

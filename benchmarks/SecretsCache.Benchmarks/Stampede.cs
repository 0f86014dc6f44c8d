using System.Globalization;

namespace SecretsCache.Benchmarks;

/// <summary>
/// 1,000 concurrent cold callers of one key: how many backend (factory) calls each cache makes. The callers run on the
/// thread pool, released together; the backend answers only once every caller has made its call, as a slow AWS would.
/// Each round uses a new key; the table gives the most factory calls any round made and the total.
/// </summary>
internal static class Stampede
{
    private const int Callers = 1_000;
    private const int Rounds = 20;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static async Task RunAsync()
    {
        var secret = new Secret("app/cold", "value");
        var hybrid = Fixtures.Hybrid();
        using var fusion = Fixtures.Fusion();

        Console.WriteLine($"| cache | {Callers:N0} cold callers: most factory calls in one round | total over {Rounds} rounds |");
        Console.WriteLine("|---|---:|---:|");
        await Row("SecretProvider.GetAsync", async (gate, round) =>
        {
            var source = new PreparedSource(new Dictionary<string, Secret> { [$"app/cold-{round}"] = secret }) { Gate = gate.Task };
            using var provider = new SecretProvider(source, Fixtures.ProviderOptions());
            await Run(() => provider.GetAsync($"app/cold-{round}").AsTask(), gate);
            return source.Calls;
        });
        await Row("HybridCache.GetOrCreateAsync", async (gate, round) =>
        {
            var calls = 0;
            await Run(() => hybrid.GetOrCreateAsync($"cold-{round}", async ct =>
            {
                Interlocked.Increment(ref calls);
                await gate.Task;
                return new CachedSecret(secret);
            }).AsTask(), gate);
            return calls;
        });
        await Row("FusionCache.GetOrSetAsync", async (gate, round) =>
        {
            var calls = 0;
            await Run(() => fusion.GetOrSetAsync<CachedSecret>($"cold-{round}", async (_, ct) =>
            {
                Interlocked.Increment(ref calls);
                await gate.Task;
                return new CachedSecret(secret);
            }).AsTask(), gate);
            return calls;
        });
    }

    private static async Task Row(string what, Func<TaskCompletionSource, int, Task<int>> round)
    {
        int most = 0, total = 0;
        for (var r = 0; r < Rounds; r++)
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var calls = await round(gate, r);
            most = Math.Max(most, calls);
            total += calls;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {what} | {most} | {total} |"));
    }

    // Starts the callers together; opens the backend once all have called (bounded by the deadline), then awaits them all.
    private static async Task Run<T>(Func<Task<T>> read, TaskCompletionSource gate)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var called = 0;
        var tasks = Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            var pending = read();
            Interlocked.Increment(ref called);
            return await pending;
        })).ToArray();
        start.SetResult();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref called) < Callers && waited.Elapsed < Deadline)
        {
            await Task.Delay(1);
        }

        gate.SetResult();
        await Task.WhenAll(tasks).WaitAsync(Deadline);
    }
}

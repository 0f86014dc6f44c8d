using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.IntegrationTests.Provider.Support;
using SecretsCache.Testing;
using SecretsCache.Tests.Support;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>Synchronous reads over real HTTP from a single-threaded synchronization context (a UI thread, classic ASP.NET), counted on the emulator.</summary>
public sealed class SyncReadTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60); // fails a deadlock; never waited for otherwise

    [Fact]
    public async Task A_hundred_calls_from_a_single_threaded_context_complete_with_one_GetSecretValue()
    {
        var name = SecretName("sync");
        Aws.CreateSecret(name, "sync-value");
        var provider = CreateProvider();

        var values = await SingleThreadContext.RunAsync(async context =>
        {
            var reads = Enumerable.Range(0, 100).Select(_ =>
            {
                var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                context.Post(
                    _ =>
                    {
                        try
                        {
                            done.SetResult(provider.GetString(name));
                        }
                        catch (Exception ex)
                        {
                            done.SetException(ex);
                        }
                    },
                    null);
                return done.Task;
            }).ToList();
            return await Task.WhenAll(reads);
        }).WaitAsync(Bound);

        Assert.All(values, v => Assert.Equal("sync-value", v));
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue));

        // Hits, from the context too, reach no AWS at all.
        var hits = await SingleThreadContext.RunAsync(_ => Task.FromResult(Enumerable.Range(0, 100).Select(_ => provider.GetString(name)).ToList())).WaitAsync(Bound);
        Assert.All(hits, v => Assert.Equal("sync-value", v));
        Assert.True(provider.TryGetCached(name, out var cached));
        Assert.Equal("sync-value", cached.GetString());
        Assert.Equal(1, Aws.Requests.Total);
    }

    [Fact]
    public async Task Awaited_and_blocking_reads_on_one_context_share_one_GetSecretValue()
    {
        var name = SecretName("sync-mixed");
        Aws.CreateSecret(name, "mixed");
        var provider = CreateProvider();

        var values = await SingleThreadContext.RunAsync(async _ =>
        {
            var awaited = Enumerable.Range(0, 20).Select(_ => provider.GetStringAsync(name).AsTask()).ToList();
            var blocking = provider.GetString(name); // the pump blocks while the fetch the awaited reads started is under way
            return (await Task.WhenAll(awaited)).Append(blocking).ToList();
        }).WaitAsync(Bound);

        Assert.All(values, v => Assert.Equal("mixed", v));
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task A_missing_secret_throws_the_async_reads_error_from_a_single_threaded_context()
    {
        var provider = CreateProvider();

        var error = await SingleThreadContext.RunAsync(_ => Task.FromResult(Record.Exception(() => provider.GetString(SecretName("absent"))))).WaitAsync(Bound);

        Assert.IsType<SecretNotFoundException>(error);
    }

    [Fact]
    public async Task A_miss_AWS_does_not_answer_within_FetchTimeout_throws_the_fetch_timeout_error_from_a_single_threaded_context()
    {
        await using var aws = await HangingAws.StartAsync("app/slow", "slow-value");
        var (awsClock, clock, options) = (aws.AwsClock, aws.Clock, aws.Options());
        options.FetchTimeout = TimeSpan.FromSeconds(5);
        options.Aws.AttemptTimeout = TimeSpan.FromMinutes(1);
        options.Retry.TotalTimeout = TimeSpan.FromMinutes(1);
        using var provider = new SecretProvider(options, null, null, clock);

        var read = SingleThreadContext.RunAsync(_ => Task.FromResult(Record.Exception(() => provider.GetString("app/slow"))));
        await awsClock.WaitForTimerAsync(); // the request reached the emulator, which holds it; the pump is blocked in GetString
        Assert.False(read.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(5));
        var error = await read.WaitAsync(Bound);

        var unavailable = Assert.IsType<SecretServiceUnavailableException>(error);
        Assert.Equal("FetchTimeout", unavailable.ErrorCode);
        Assert.True(unavailable.IsTransient);
        Assert.DoesNotContain("slow-value", unavailable.Message, StringComparison.Ordinal);
        Assert.Equal(1, awsClock.TimersCreated); // one request reached AWS
    }
}

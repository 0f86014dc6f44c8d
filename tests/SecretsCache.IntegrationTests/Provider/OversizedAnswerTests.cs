using System.Text;
using Microsoft.AspNetCore.Http;
using SecretsCache.IntegrationTests.Provider.Support;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>Runs alone: its tests measure the process's allocations, which a test running in parallel would inflate.</summary>
[CollectionDefinition(nameof(AllocationMeasurementCollection), DisableParallelization = true)]
public sealed class AllocationMeasurementCollection;

/// <summary>
/// Answers larger than any AWS answer can be, with and without a Content-Length: read through a cap enforced while
/// streaming, refused with a typed error, the connection dropped, the cached value kept. Memory is measured by allocation
/// counts around one call, not by timing.
/// </summary>
[Collection(nameof(AllocationMeasurementCollection))]
public sealed class OversizedAnswerTests : IAsyncLifetime
{
    private const string Name = "app/big";
    private const long Served = 64L * 1024 * 1024;

    private readonly List<IDisposable> _owned = [];
    private HostileServer _server = null!;

    public async Task InitializeAsync() => _server = await HostileServer.StartAsync();

    public async Task DisposeAsync()
    {
        _owned.ForEach(o => o.Dispose());
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_64_MiB_secret_is_refused_within_a_small_multiple_of_the_default_cap_and_the_cached_value_stays(bool chunked)
    {
        var cap = new SecretsCacheOptions().Aws.MaxResponseBytes;
        Assert.True(Served > 4 * cap, "the test must serve far more than the cap");
        _server.Answer = context => HostileServer.Json(context, HostileServer.SecretJson(Name, "small-and-good"));
        var provider = Own(new SecretProvider(_server.Options()));
        Assert.Equal("small-and-good", await provider.GetStringAsync(Name));

        _server.Answer = context => HostileServer.HugeSecretAsync(context, Name, Served, chunked);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => provider.RefreshAsync(Name).AsTask());
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal("ResponseTooLarge", error.ErrorCode);
        Assert.Contains(cap.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.Contains("Aws.MaxResponseBytes", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("xxxx", error.ToString(), StringComparison.Ordinal);
        Assert.True(allocated < (chunked ? 4L * cap : cap / 4), $"{allocated:N0} bytes allocated reading an answer over a cap of {cap:N0}");
        Assert.Equal(2, _server.Received.Count); // not retried: the same request would get the same answer

        Assert.Equal("small-and-good", await provider.GetStringAsync(Name));

        // The connection was dropped, not drained and reused: the next request comes on a new one.
        _server.Answer = context => HostileServer.Json(context, HostileServer.SecretJson(Name, "small-and-good"));
        Assert.Equal("small-and-good", await provider.GetStringAsync(Name));
        await provider.RefreshAsync(Name);
        Assert.Equal(3, _server.Received.Count);
        Assert.NotEqual(_server.Received[1].ConnectionId, _server.Received[2].ConnectionId);
    }

    [Theory]
    [InlineData(false, 0, true)]
    [InlineData(false, 1, false)]
    [InlineData(true, 0, true)]
    [InlineData(true, 1, false)]
    public async Task The_cap_is_exact_with_and_without_a_content_length(bool chunked, int overCap, bool succeeds)
    {
        const int Cap = 4096;
        var json = Encoding.UTF8.GetByteCount(HostileServer.SecretJson(Name, string.Empty));
        var value = new string('v', Cap - json + overCap);
        _server.Answer = async context =>
        {
            var body = Encoding.UTF8.GetBytes(HostileServer.SecretJson(Name, value));
            context.Response.StatusCode = StatusCodes.Status200OK;
            if (!chunked)
            {
                context.Response.ContentLength = body.Length;
            }

            // Two writes, so a chunked body really is two chunks.
            await context.Response.Body.WriteAsync(body.AsMemory(0, body.Length / 2));
            await context.Response.Body.FlushAsync();
            await context.Response.Body.WriteAsync(body.AsMemory(body.Length / 2));
        };
        var provider = Own(new SecretProvider(_server.Options(o => o.Aws.MaxResponseBytes = Cap)));

        if (succeeds)
        {
            Assert.Equal(value, await provider.GetStringAsync(Name));
        }
        else
        {
            var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => provider.GetAsync(Name).AsTask());
            Assert.Equal("ResponseTooLarge", error.ErrorCode);
            Assert.True(error.IsTransient); // a cached value would be served stale
        }
    }

    [Fact]
    public async Task An_error_answer_is_read_through_the_same_cap()
    {
        _server.Answer = context => HostileServer.Json(context, $$"""{"__type":"ValidationException","message":"{{new string('e', 8192)}}"}""", 400);
        var provider = Own(new SecretProvider(_server.Options(o => o.Aws.MaxResponseBytes = 4096)));

        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => provider.GetAsync(Name).AsTask());

        Assert.Equal("ResponseTooLarge", error.ErrorCode);
        Assert.Contains("HTTP 400", error.Message, StringComparison.Ordinal);
    }

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }
}

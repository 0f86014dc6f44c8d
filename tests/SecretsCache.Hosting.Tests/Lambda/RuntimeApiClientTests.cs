using System.Net;
using LambdaFunction.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SecretsCache.Hosting.Tests.Lambda;

/// <summary>The sample's Runtime API client treats what <c>/next</c> answers as hostile: each malformed answer is a
/// <see cref="RuntimeApiException"/> that names the problem, never an invocation.</summary>
public sealed class RuntimeApiClientTests
{
    private const string ValidId = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
    private const string ValidDeadline = "1542409706888";

    [Theory]
    [InlineData(null, ValidDeadline, "without Lambda-Runtime-Aws-Request-Id")]
    [InlineData("", ValidDeadline, "without Lambda-Runtime-Aws-Request-Id")]
    [InlineData("../init/error", ValidDeadline, "not an id")]
    [InlineData("id with spaces", ValidDeadline, "not an id")]
    [InlineData(ValidId, null, "Lambda-Runtime-Deadline-Ms")]
    [InlineData(ValidId, "soon", "Lambda-Runtime-Deadline-Ms")]
    [InlineData(ValidId, "-1", "Lambda-Runtime-Deadline-Ms")]
    [InlineData(ValidId, "99999999999999999999", "Lambda-Runtime-Deadline-Ms")]
    [InlineData(ValidId, "9223372036854775807", "Lambda-Runtime-Deadline-Ms")]
    public async Task A_malformed_next_answer_is_refused_naming_the_header(string? requestId, string? deadline, string expected)
    {
        await using var server = await NextServer.StartAsync(context =>
        {
            if (requestId is not null)
            {
                context.Response.Headers["Lambda-Runtime-Aws-Request-Id"] = requestId;
            }

            if (deadline is not null)
            {
                context.Response.Headers["Lambda-Runtime-Deadline-Ms"] = deadline;
            }

            return context.Response.WriteAsync("{}");
        });
        using var client = new RuntimeApiClient(server.HostAndPort);

        var error = await Assert.ThrowsAsync<RuntimeApiException>(() => client.NextAsync());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, error.StatusCode);
    }

    [Fact]
    public async Task A_well_formed_next_answer_gives_the_invocation_and_its_headers()
    {
        await using var server = await NextServer.StartAsync(context =>
        {
            context.Response.Headers["Lambda-Runtime-Aws-Request-Id"] = ValidId;
            context.Response.Headers["Lambda-Runtime-Deadline-Ms"] = ValidDeadline;
            context.Response.Headers["Lambda-Runtime-Invoked-Function-Arn"] = "arn:aws:lambda:us-east-2:123456789012:function:custom-runtime";
            context.Response.Headers["Lambda-Runtime-Trace-Id"] = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1";
            return context.Response.WriteAsync("""{"references":[]}""");
        });
        using var client = new RuntimeApiClient(server.HostAndPort);

        var invocation = await client.NextAsync();

        Assert.Equal(ValidId, invocation.RequestId);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1542409706888), invocation.Deadline);
        Assert.Equal("arn:aws:lambda:us-east-2:123456789012:function:custom-runtime", invocation.InvokedFunctionArn);
        Assert.Equal("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1", invocation.TraceId);
        Assert.Equal("""{"references":[]}""", await new StreamReader(invocation.OpenPayload()).ReadToEndAsync());
    }

    [Fact]
    public async Task An_event_over_6_MB_is_not_read()
    {
        await using var server = await NextServer.StartAsync(async context =>
        {
            context.Response.Headers["Lambda-Runtime-Aws-Request-Id"] = ValidId;
            context.Response.Headers["Lambda-Runtime-Deadline-Ms"] = ValidDeadline;
            await context.Response.Body.WriteAsync(new byte[(6 * 1024 * 1024) + 1]);
        });
        using var client = new RuntimeApiClient(server.HostAndPort);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.NextAsync());
    }

    [Fact]
    public async Task A_refused_next_carries_its_status()
    {
        await using var server = await NextServer.StartAsync(context =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        using var client = new RuntimeApiClient(server.HostAndPort);

        var error = await Assert.ThrowsAsync<RuntimeApiException>(() => client.NextAsync());

        Assert.Equal(500, error.StatusCode);
        Assert.False(error.IsInvocationRefused);
    }

    [Theory]
    [InlineData("127.0.0.1:9001/path")]
    [InlineData("user@127.0.0.1:9001")]
    [InlineData("127.0.0.1:9001?x=1")]
    [InlineData("")]
    public void The_API_address_must_be_host_and_port(string hostAndPort)
    {
        var error = Assert.Throws<RuntimeApiException>(() => new RuntimeApiClient(hostAndPort));

        Assert.Contains("AWS_LAMBDA_RUNTIME_API must be host:port", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A loopback Kestrel app that answers every request with <c>answer</c>.</summary>
    private sealed class NextServer : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private NextServer(WebApplication app, string hostAndPort)
        {
            _app = app;
            HostAndPort = hostAndPort;
        }

        public string HostAndPort { get; }

        public static async Task<NextServer> StartAsync(RequestDelegate answer)
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            app.Run(answer);
            await app.StartAsync();
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
            return new NextServer(app, $"127.0.0.1:{address.Port}");
        }

        public async ValueTask DisposeAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(timeout.Token);
            await _app.DisposeAsync();
        }
    }
}

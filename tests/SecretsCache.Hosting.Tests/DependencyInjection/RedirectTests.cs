using System.Net;
using Amazon.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace SecretsCache.Hosting.Tests.DependencyInjection;

/// <summary>
/// The container's named HttpClient never follows a redirect: the endpoint is a real Kestrel server that answers 307 to a
/// second one, which must receive nothing. A primary handler that would follow redirects is refused when the provider is built.
/// </summary>
public sealed class RedirectTests : IAsyncLifetime
{
    private WebApplication _endpoint = null!;
    private WebApplication _elsewhere = null!;
    private int _elsewhereRequests;

    public async Task InitializeAsync()
    {
        _elsewhere = await StartAsync(context =>
        {
            Interlocked.Increment(ref _elsewhereRequests);
            context.Response.ContentType = "application/x-amz-json-1.1";
            return context.Response.WriteAsync("""{"Name":"app/db","VersionId":"a1b2c3d4-0000-4000-8000-000000000001","SecretString":"planted"}""");
        });
        var target = Address(_elsewhere);
        _endpoint = await StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = target;
            return Task.CompletedTask;
        });
    }

    public async Task DisposeAsync()
    {
        await _endpoint.DisposeAsync();
        await _elsewhere.DisposeAsync();
    }

    [Fact]
    public async Task The_named_client_refuses_a_redirect_and_the_other_server_receives_nothing()
    {
        var services = Services();
        await using var container = services.BuildServiceProvider();
        var provider = container.GetRequiredService<ISecretProvider>();

        var error = await Assert.ThrowsAsync<SecretsConfigurationException>(() => provider.GetAsync("app/db").AsTask());

        Assert.Equal("Redirect", error.ErrorCode);
        Assert.Equal(0, Volatile.Read(ref _elsewhereRequests));
    }

    [Fact]
    public async Task A_primary_handler_that_follows_redirects_is_refused_when_the_provider_is_built()
    {
        var services = Services();
        services.AddHttpClient("SecretsCache").ConfigurePrimaryHttpMessageHandler(() => new HttpClientHandler());
        await using var container = services.BuildServiceProvider();

        var error = Assert.Throws<SecretsConfigurationException>(() => container.GetRequiredService<ISecretProvider>());

        Assert.Contains("AllowAutoRedirect = false", error.Message, StringComparison.Ordinal);
        Assert.Contains("'SecretsCache'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_primary_handler_that_does_not_follow_redirects_is_accepted()
    {
        var services = Services();
        services.AddHttpClient("SecretsCache").ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        await using var container = services.BuildServiceProvider();
        var provider = container.GetRequiredService<ISecretProvider>();

        var error = await Assert.ThrowsAsync<SecretsConfigurationException>(() => provider.GetAsync("app/db").AsTask());

        Assert.Equal("Redirect", error.ErrorCode);
        Assert.Equal(0, Volatile.Read(ref _elsewhereRequests));
    }

    private ServiceCollection Services()
    {
        var services = new ServiceCollection();
        services.AddSecretsCache(o =>
        {
            o.Aws.ServiceUrl = Address(_endpoint);
            o.Aws.Region = "eu-west-1";
            o.Aws.Credentials = new SessionAWSCredentials("AKIDEXAMPLE", "secret-key", "session-token");
            o.Retry.MaxRetryAttempts = 0;
        });
        return services;
    }

    private static async Task<WebApplication> StartAsync(RequestDelegate handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync();
        return app;
    }

    private static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal) + "/";
}

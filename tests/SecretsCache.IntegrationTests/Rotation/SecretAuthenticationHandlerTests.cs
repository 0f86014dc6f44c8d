using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Rotation;

/// <summary>The 401 handler against a tiny Kestrel API that checks the bearer token, with the token in the emulator.</summary>
public sealed class SecretAuthenticationHandlerTests : IAsyncLifetime
{
    private AwsEmulator _aws = null!;
    private WebApplication _api = null!;
    private Uri _apiUrl = null!;
    private volatile string _acceptedToken = "token-1";
    private int _apiRequests;

    public async Task InitializeAsync()
    {
        _aws = await AwsEmulator.StartAsync();
        _aws.CreateSecret("app/api-token", "token-1");

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        _api = builder.Build();
        _api.Run(async context =>
        {
            Interlocked.Increment(ref _apiRequests);
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            if (context.Request.Headers.Authorization.ToString() != "Bearer " + _acceptedToken)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Bearer";
                return;
            }

            await context.Response.WriteAsync("ok:" + body);
        });
        await _api.StartAsync();
        var address = _api.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _apiUrl = new Uri($"http://127.0.0.1:{new Uri(address).Port}/");
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _aws.DisposeAsync();
    }

    private HttpClient Client(SecretProvider provider) =>
        new(SecretAuthenticationHandler.ForBearerToken(provider, "app/api-token").WithInner(new SocketsHttpHandler())) { BaseAddress = _apiUrl };

    [Fact]
    public async Task On_401_the_handler_refreshes_and_retries_once_with_the_rotated_token()
    {
        using var provider = new SecretProvider(new SecretsCacheOptions().UseEmulator(_aws));
        using var client = Client(provider);
        Assert.Equal("ok:", await client.GetStringAsync("orders"));

        _aws.PutSecretValue("app/api-token", "token-2");
        _acceptedToken = "token-2";
        _aws.Requests.Reset();
        Interlocked.Exchange(ref _apiRequests, 0);

        using var response = await client.PostAsync("orders", new StringContent("order-1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok:order-1", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, _apiRequests);
        Assert.Equal(1, _aws.Requests.Count("secretsmanager.GetSecretValue"));
    }

    [Fact]
    public async Task A_wrong_token_is_retried_at_most_once_and_only_when_the_secret_changed()
    {
        using var provider = new SecretProvider(new SecretsCacheOptions().UseEmulator(_aws));
        using var client = Client(provider);
        _acceptedToken = "nobody-has-this";

        for (var i = 0; i < 10; i++)
        {
            using var response = await client.GetAsync("orders");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Equal(10, _apiRequests); // Never resent: the refreshed token was the same.
        Assert.Equal(2, _aws.Requests.Count("secretsmanager.GetSecretValue")); // The first read and one forced refresh per 5 s.
    }

    [Fact]
    public async Task A_streamed_body_is_not_resent()
    {
        using var provider = new SecretProvider(new SecretsCacheOptions().UseEmulator(_aws));
        using var client = Client(provider);
        (await client.GetAsync("orders")).Dispose();
        _aws.PutSecretValue("app/api-token", "token-2");
        _acceptedToken = "token-2";
        Interlocked.Exchange(ref _apiRequests, 0);

        using var response = await client.PostAsync("upload", new StreamContent(new MemoryStream("data"u8.ToArray())));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(1, _apiRequests);
    }
}

internal static class HandlerExtensions
{
    public static DelegatingHandler WithInner(this DelegatingHandler handler, HttpMessageHandler inner)
    {
        handler.InnerHandler = inner;
        return handler;
    }
}

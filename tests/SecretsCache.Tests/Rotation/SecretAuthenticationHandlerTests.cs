using System.Net;
using System.Net.Http.Headers;
using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Rotation.Support;

namespace SecretsCache.Tests.Rotation;

public sealed class SecretAuthenticationHandlerTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly StagedSecretSource _source;
    private readonly SecretProvider _provider;
    private readonly TokenCheckingApi _api = new("t1");

    public SecretAuthenticationHandlerTests()
    {
        _source = new StagedSecretSource(_time);
        _source.Put("app/token", "t1");
        _provider = new SecretProvider(_source, new SecretsCacheOptions(), _time);
    }

    public void Dispose() => _provider.Dispose();

    private HttpClient Client(SecretAuthenticationHandler? handler = null)
    {
        handler ??= SecretAuthenticationHandler.ForBearerToken(_provider, "app/token");
        handler.InnerHandler = _api;
        return new HttpClient(handler) { BaseAddress = new Uri("http://api.test/") };
    }

    [Fact]
    public async Task Every_request_carries_the_secret()
    {
        using var client = Client();
        using var response = await client.GetAsync("orders");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Bearer t1"], _api.Seen);
    }

    [Fact]
    public async Task A_401_after_a_rotation_refreshes_and_resends_once_with_the_new_value()
    {
        using var client = Client();
        (await client.GetAsync("orders")).Dispose();
        _source.Put("app/token", "t2");
        _api.Accept("t2");

        using var response = await client.PostAsync("orders", new StringContent("{\"id\":1}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Bearer t1", "Bearer t1", "Bearer t2"], _api.Seen);
        Assert.Equal(["", "{\"id\":1}", "{\"id\":1}"], _api.Bodies);
        Assert.Equal(2, _source.Calls("app/token"));
    }

    [Fact]
    public async Task An_unchanged_secret_is_not_resent_and_the_401_is_returned()
    {
        using var client = Client();
        _api.Accept("other");

        using var response = await client.GetAsync("orders");
        using var again = await client.GetAsync("orders");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
        Assert.Equal(2, _api.Seen.Count);
        Assert.Equal(2, _source.Calls("app/token")); // The second 401 fell inside the forced-refresh interval.
    }

    [Fact]
    public async Task A_request_whose_content_cannot_be_replayed_is_not_resent()
    {
        using var client = Client();
        (await client.GetAsync("orders")).Dispose();
        _source.Put("app/token", "t2");
        _api.Accept("t2");

        using var response = await client.PostAsync("upload", new StreamContent(new MemoryStream([1, 2, 3])));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(2, _api.Seen.Count);
        Assert.Equal(1, _source.Calls("app/token")); // Not even refreshed: there is nothing it could do.
    }

    [Fact]
    public async Task An_api_key_header_is_replaced_not_duplicated_on_the_resend()
    {
        using var client = Client(SecretAuthenticationHandler.ForHeader(_provider, "app/token", "X-Api-Key"));
        (await client.GetAsync("orders")).Dispose();
        _source.Put("app/token", "t2");
        _api.Accept("t2");

        using var response = await client.GetAsync("orders");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["X-Api-Key t1", "X-Api-Key t1", "X-Api-Key t2"], _api.Seen);
    }

    [Fact]
    public void Replayable_content_is_recognized()
    {
        Assert.True(SecretAuthenticationHandler.CanResend(null));
        Assert.True(SecretAuthenticationHandler.CanResend(new StringContent("x")));
        Assert.True(SecretAuthenticationHandler.CanResend(new ByteArrayContent([1])));
        Assert.True(SecretAuthenticationHandler.CanResend(new FormUrlEncodedContent([new("a", "b")])));
        Assert.True(SecretAuthenticationHandler.CanResend(new ReadOnlyMemoryContent(new byte[] { 1 })));
        Assert.True(SecretAuthenticationHandler.CanResend(new MultipartFormDataContent { new StringContent("x") }));
        Assert.False(SecretAuthenticationHandler.CanResend(new MultipartFormDataContent { new StreamContent(new MemoryStream()) }));
        Assert.False(SecretAuthenticationHandler.CanResend(new StreamContent(new MemoryStream())));
    }

    /// <summary>An API that accepts one token, by bearer or API-key header, and records what it saw.</summary>
    private sealed class TokenCheckingApi(string accepted) : HttpMessageHandler
    {
        private string _accepted = accepted;

        public List<string> Seen { get; } = [];

        public List<string> Bodies { get; } = [];

        public void Accept(string token) => _accepted = token;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            string? token = null;
            if (request.Headers.Authorization is { Scheme: "Bearer" } bearer)
            {
                Seen.Add($"Bearer {bearer.Parameter}");
                token = bearer.Parameter;
            }
            else if (request.Headers.TryGetValues("X-Api-Key", out var keys))
            {
                var all = keys.ToList();
                Seen.Add($"X-Api-Key {string.Join(",", all)}");
                token = all.Count == 1 ? all[0] : null;
            }

            Bodies.Add(request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken));
            var status = token == _accepted ? HttpStatusCode.OK : HttpStatusCode.Unauthorized;
            var response = new HttpResponseMessage(status) { RequestMessage = request };
            if (status == HttpStatusCode.Unauthorized)
            {
                response.Headers.WwwAuthenticate.Add(new AuthenticationHeaderValue("Bearer"));
            }

            return response;
        }
    }
}

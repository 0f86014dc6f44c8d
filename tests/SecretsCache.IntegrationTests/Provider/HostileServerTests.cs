using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Testing;
using SecretsCache.Aws.Contracts;
using SecretsCache.Aws.Endpoints;
using SecretsCache.Aws.Protocol;
using SecretsCache.IntegrationTests.Provider.Support;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>
/// Every byte the network returns is hostile: redirects, error shapes in a 2xx, and huge error messages, from real loopback
/// servers over real HTTP. (Huge bodies, whose tests measure memory, are in <see cref="OversizedAnswerTests"/>.)
/// </summary>
public sealed class HostileServerTests : IAsyncLifetime
{
    private const string Name = "app/db";

    private readonly List<IDisposable> _owned = [];
    private HostileServer _endpoint = null!;
    private HostileServer _elsewhere = null!;

    public async Task InitializeAsync()
    {
        _endpoint = await HostileServer.StartAsync();
        _elsewhere = await HostileServer.StartAsync();
        _elsewhere.Answer = context => HostileServer.Json(context, HostileServer.SecretJson(Name, "planted-by-the-other-server"));
    }

    public async Task DisposeAsync()
    {
        _owned.ForEach(o => o.Dispose());
        await _endpoint.DisposeAsync();
        await _elsewhere.DisposeAsync();
    }

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task A_redirect_is_refused_and_the_other_server_receives_nothing(int status)
    {
        RedirectTo(_elsewhere.Endpoint, status);
        var provider = Own(new SecretProvider(_endpoint.Options()));

        var error = await Assert.ThrowsAsync<SecretsConfigurationException>(() => provider.GetAsync(Name).AsTask());

        Assert.Equal("Redirect", error.ErrorCode);
        Assert.False(error.IsTransient);
        Assert.Contains($"HTTP {status}", error.Message, StringComparison.Ordinal);
        Assert.Contains(_endpoint.Endpoint.Authority, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("planted", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(_elsewhere.Received);
        Assert.Single(_endpoint.Received); // not retried
        Assert.Equal(HostileServer.SessionToken, _endpoint.Received[0].SessionToken);
    }

    [Fact]
    public async Task A_redirect_loop_costs_one_request()
    {
        RedirectTo(_endpoint.Endpoint, 307);
        var provider = Own(new SecretProvider(_endpoint.Options()));

        await Assert.ThrowsAsync<SecretsConfigurationException>(() => provider.GetAsync(Name).AsTask());

        Assert.Single(_endpoint.Received);
    }

    [Fact]
    public async Task A_user_http_client_that_does_not_follow_redirects_keeps_everything_home()
    {
        RedirectTo(_elsewhere.Endpoint, 307);
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        var provider = Own(new SecretProvider(_endpoint.Options(), http));

        var error = await Assert.ThrowsAsync<SecretsConfigurationException>(() => provider.GetAsync(Name).AsTask());

        Assert.Equal("Redirect", error.ErrorCode);
        Assert.Empty(_elsewhere.Received);
    }

    [Theory]
    [InlineData(302)]
    [InlineData(307)]
    public async Task The_answer_a_user_http_client_got_by_following_a_redirect_is_refused_not_cached(int status)
    {
        RedirectTo(_elsewhere.Endpoint, status);
        using var http = new HttpClient(new SocketsHttpHandler()); // follows redirects: the README says not to do this
        var provider = Own(new SecretProvider(_endpoint.Options(), http));

        var error = await Assert.ThrowsAsync<SecretsConfigurationException>(() => provider.GetAsync(Name).AsTask());

        Assert.Equal("Redirect", error.ErrorCode);
        Assert.Contains("AllowAutoRedirect", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("planted", error.ToString(), StringComparison.Ordinal);

        // The residual risk the README states: that client's handler sent the request on before the provider saw the answer.
        Assert.Single(_elsewhere.Received);
    }

    public static TheoryData<string> Operations() =>
        ["GetSecretValue", "BatchGetSecretValue", "DescribeSecret", "GetParameter", "GetParameters", "GetParametersByPath"];

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task An_error_shape_in_a_2xx_is_a_transient_malformed_answer_for_every_operation(string operation)
    {
        _endpoint.Answer = context => HostileServer.Json(context, """{"__type":"InternalServerError","message":"but the status says OK"}""");
        var options = _endpoint.Options(o => o.Retry.MaxRetryAttempts = 1);
        using var client = new AwsJsonClient(options, null, TimeProvider.System);

        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => Send(client, operation));

        Assert.Equal("MalformedResponse", error.ErrorCode);
        Assert.True(error.IsTransient);
        Assert.Contains(operation, error.Message, StringComparison.Ordinal);
        Assert.Contains("InternalServerError", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, _endpoint.Received.Count); // transient: retried
    }

    [Fact]
    public async Task A_member_that_merely_mentions_type_in_a_2xx_is_still_a_success()
    {
        _endpoint.Answer = context => HostileServer.Json(context, HostileServer.SecretJson(Name, """{\"__type\":\"not an error\"}"""));
        var provider = Own(new SecretProvider(_endpoint.Options()));

        Assert.Equal("""{"__type":"not an error"}""", await provider.GetStringAsync(Name));
    }

    [Fact]
    public async Task A_huge_aws_error_message_is_cut_and_escaped_before_it_reaches_the_exception_and_the_logs()
    {
        var forged = "\r\nCRITICAL forged log line";
        var message = forged + new string('m', 4 * 1024 * 1024);
        _endpoint.Answer = context => HostileServer.Json(
            context, $$"""{"__type":"ValidationException","message":"{{message.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}}"}""", 400);
        var logs = new FakeLoggerProvider();
        var provider = Own(new SecretProvider(_endpoint.Options(), loggerFactory: Own(FakeLogs.Factory(logs))));

        var error = await Assert.ThrowsAsync<SecretRequestException>(() => provider.GetAsync(Name).AsTask());

        Assert.Equal("ValidationException", error.ErrorCode);
        Assert.InRange(error.Message.Length, 1, 1_000);
        Assert.Contains(@"\r\nCRITICAL forged log line", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(forged, error.Message, StringComparison.Ordinal);
        Assert.NotEmpty(logs.Entries);
        Assert.All(logs.Entries, entry =>
        {
            Assert.True(entry.Length < 20_000, $"a log entry of {entry.Length} characters");
            Assert.DoesNotContain(forged, entry, StringComparison.Ordinal);
        });
    }

    private void RedirectTo(Uri target, int status) => _endpoint.Answer = context =>
    {
        context.Response.StatusCode = status;
        context.Response.Headers.Location = target.ToString();
        return Task.CompletedTask;
    };

    private static async Task Send(AwsJsonClient client, string operation)
    {
        var json = AwsJsonContext.Default;
        var sm = AwsService.SecretsManager;
        var ssm = AwsService.ParameterStore;
        var token = CancellationToken.None;
        _ = operation switch
        {
            "GetSecretValue" => (object)await client.SendAsync(
                sm, null, operation, new GetSecretValueRequest { SecretId = Name }, json.GetSecretValueRequest, json.GetSecretValueResponse, Name, token),
            "BatchGetSecretValue" => await client.SendAsync(
                sm, null, operation, new BatchGetSecretValueRequest { SecretIdList = [Name, "app/other"] }, json.BatchGetSecretValueRequest, json.BatchGetSecretValueResponse, null, token),
            "DescribeSecret" => await client.SendAsync(
                sm, null, operation, new DescribeSecretRequest { SecretId = Name }, json.DescribeSecretRequest, json.DescribeSecretResponse, Name, token),
            "GetParameter" => await client.SendAsync(
                ssm, null, operation, new GetParameterRequest { Name = "/app/key", WithDecryption = true }, json.GetParameterRequest, json.GetParameterResult, "ssm:/app/key", token),
            "GetParameters" => await client.SendAsync(
                ssm, null, operation, new GetParametersRequest { Names = ["/app/a", "/app/b"], WithDecryption = true }, json.GetParametersRequest, json.GetParametersResult, null, token),
            "GetParametersByPath" => await client.SendAsync(
                ssm, null, operation, new GetParametersByPathRequest { Path = "/app/", Recursive = true, WithDecryption = true }, json.GetParametersByPathRequest, json.GetParametersByPathResult, null, token),
            _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, null),
        };
    }

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Emulator;

public sealed class StartupTests
{
    [Fact]
    public async Task Two_emulators_start_on_free_loopback_ports_and_each_answers_with_its_own_state()
    {
        // How fast they start is measured by benchmarks/SecretsCache.Benchmarks (EmulatorStartupBenchmarks), not asserted here.
        await using var first = await EmulatorSession.StartAsync();
        await using var second = await EmulatorSession.StartAsync();
        first.Emulator.CreateSecret("db", "first");
        second.Emulator.CreateSecret("db", "second");

        Assert.Equal("first", (await first.Client.CallAsync("secretsmanager.GetSecretValue", new { SecretId = "db" })).GetProperty("SecretString").GetString());
        Assert.Equal("second", (await second.Client.CallAsync("secretsmanager.GetSecretValue", new { SecretId = "db" })).GetProperty("SecretString").GetString());
        foreach (var emulator in new[] { first.Emulator, second.Emulator })
        {
            Assert.Equal("127.0.0.1", emulator.Endpoint.Host);
            Assert.Equal("/", emulator.Endpoint.AbsolutePath);
            Assert.NotEqual(0, emulator.Endpoint.Port);
            Assert.Equal("us-east-1", emulator.Region);
            Assert.Equal("123456789012", emulator.AccountId);
        }

        Assert.NotEqual(first.Emulator.Endpoint.Port, second.Emulator.Endpoint.Port);
    }

    [Fact]
    public async Task Options_set_region_account_and_port()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        await using var session = await EmulatorSession.StartAsync(new AwsEmulatorOptions { Region = "eu-west-2", AccountId = "999999999999", Port = port });

        Assert.Equal(port, session.Emulator.Endpoint.Port);
        var arn = session.Emulator.CreateSecret("db", "v");
        Assert.StartsWith("arn:aws:secretsmanager:eu-west-2:999999999999:secret:db-", arn, StringComparison.Ordinal);
        var value = await session.Client.CallAsync("secretsmanager.GetSecretValue", new { SecretId = "db" });
        Assert.Equal("v", value.GetProperty("SecretString").GetString());
    }

    [Fact]
    public async Task Every_response_carries_date_request_id_and_content_type()
    {
        await using var session = await EmulatorSession.StartAsync();

        var ok = await session.Client.SendAsync("AmazonSSM.GetParameters", new { Names = new[] { "/nope" } });
        var error = await session.Client.SendAsync("secretsmanager.GetSecretValue", new { SecretId = "missing" });

        foreach (var response in new[] { ok, error })
        {
            Assert.True(Guid.TryParse(response.Headers.GetValues("x-amzn-RequestId").Single(), out _));
            var date = response.Headers.Date;
            Assert.NotNull(date);
            Assert.True((date.Value - DateTimeOffset.UtcNow).Duration() < TimeSpan.FromMinutes(1));
        }

        Assert.Equal(HttpStatusCode.OK, ok.Status);
        Assert.Equal("ResourceNotFoundException", error.ErrorType);
    }

    [Fact]
    public async Task Dispose_stops_listening()
    {
        var emulator = await AwsEmulator.StartAsync();
        var endpoint = emulator.Endpoint;
        await emulator.DisposeAsync();

        using var http = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => http.PostAsync(endpoint, new StringContent("{}")));
    }

    [Fact]
    public async Task Date_header_is_rfc1123_from_the_emulator_clock()
    {
        var time = new FakeTimeProvider();
        await using var session = await EmulatorSession.StartAsync(new AwsEmulatorOptions { TimeProvider = time });

        var response = await session.Client.SendAsync("AmazonSSM.GetParameters", new { Names = new[] { "/nope" } });

        Assert.Equal(time.GetUtcNow().ToString("r", CultureInfo.InvariantCulture), response.Headers.GetValues("Date").Single());
    }
}

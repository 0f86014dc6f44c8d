using System.Net;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Emulator;

public sealed class FaultTests
{
    private const string GetSecret = "secretsmanager.GetSecretValue";
    private const string Describe = "secretsmanager.DescribeSecret";
    private const string GetParameter = "AmazonSSM.GetParameter";

    [Fact]
    public async Task Quota_throttles_exactly_at_its_rate_on_the_emulator_clock()
    {
        var time = new FakeTimeProvider();
        await using var session = await StartAsync(time);
        session.Emulator.Faults.SetQuota("sm-reads", 5, GetSecret, Describe);

        var burst = await SendAsync(session, 8, i => i % 2 == 0 ? GetSecret : Describe);
        Assert.Equal(5, burst.Count(r => r.Status == HttpStatusCode.OK));
        var throttled = burst.Where(r => r.Status != HttpStatusCode.OK).ToList();
        Assert.Equal(3, throttled.Count);
        Assert.All(throttled, r =>
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.Status);
            Assert.Equal("ThrottlingException", r.ErrorType);
            Assert.Equal("Rate exceeded", r.Body.GetProperty("message").GetString());
        });

        time.Advance(TimeSpan.FromMilliseconds(400)); // 2 tokens back
        var refilled = await SendAsync(session, 3, _ => GetSecret);
        Assert.Equal(2, refilled.Count(r => r.Status == HttpStatusCode.OK));

        time.Advance(TimeSpan.FromSeconds(10)); // the burst stays at one second's worth
        var afterIdle = await SendAsync(session, 7, _ => GetSecret);
        Assert.Equal(5, afterIdle.Count(r => r.Status == HttpStatusCode.OK));

        await session.Client.CallAsync(GetParameter, new { Name = "/p" }); // not covered by the quota
        Assert.Equal(3 + 1 + 2, session.Emulator.Requests.Throttled);
        Assert.Equal(19, session.Emulator.Requests.Count(GetSecret) + session.Emulator.Requests.Count(Describe) + 1);
        Assert.Equal(6, session.Emulator.Requests.Snapshot().Count(r => r.Outcome == EmulatorOutcome.Throttled));

        session.Emulator.Faults.ClearQuotas();
        Assert.All(await SendAsync(session, 10, _ => GetSecret), r => Assert.Equal(HttpStatusCode.OK, r.Status));
    }

    [Fact]
    public async Task Quota_without_operations_covers_every_operation()
    {
        var time = new FakeTimeProvider();
        await using var session = await StartAsync(time);
        session.Emulator.Faults.SetQuota("all", 2);

        var results = await SendAsync(session, 3, i => i == 0 ? GetSecret : GetParameter);

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.BadRequest], results.Select(r => r.Status));
    }

    [Fact]
    public async Task FailNext_answers_service_shaped_5xx_then_recovers()
    {
        await using var session = await StartAsync();
        session.Emulator.Faults.FailNext(2);
        session.Emulator.Faults.FailNext(1, 503, GetParameter);

        var sm = await session.Client.SendAsync(GetSecret, new { SecretId = "s" });
        var ssm = await session.Client.SendAsync(GetParameter, new { Name = "/p" });
        var unavailable = await session.Client.SendAsync(GetParameter, new { Name = "/p" });
        var ok = await session.Client.SendAsync(GetSecret, new { SecretId = "s" });

        Assert.Equal(HttpStatusCode.InternalServerError, sm.Status);
        Assert.Equal("InternalServiceError", sm.ErrorType);
        Assert.True(sm.Body.TryGetProperty("Message", out _));
        Assert.Equal(HttpStatusCode.InternalServerError, ssm.Status);
        Assert.Equal("InternalServerError", ssm.ErrorType);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.Status);
        Assert.Equal("ServiceUnavailable", unavailable.ErrorType);
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        Assert.Equal(3, session.Emulator.Requests.Snapshot().Count(r => r.Outcome == EmulatorOutcome.Fault));
        Assert.Equal(2, session.Emulator.Requests.Count(GetSecret));
    }

    [Fact]
    public async Task FailNext_for_one_operation_leaves_others_alone()
    {
        await using var session = await StartAsync();
        session.Emulator.Faults.FailNext(1, operation: Describe);

        var other = await session.Client.SendAsync(GetSecret, new { SecretId = "s" });
        var target = await session.Client.SendAsync(Describe, new { SecretId = "s" });

        Assert.Equal(HttpStatusCode.OK, other.Status);
        Assert.Equal(HttpStatusCode.InternalServerError, target.Status);
    }

    [Fact]
    public async Task FailNextWith_answers_a_model_error()
    {
        await using var session = await StartAsync();
        session.Emulator.Faults.FailNextWith("TooManyUpdates", operation: "AmazonSSM.PutParameter");

        var response = await session.Client.SendAsync("AmazonSSM.PutParameter", new { Name = "/p", Value = "v", Overwrite = true });

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("TooManyUpdates", response.ErrorType);
        Assert.Equal(HttpStatusCode.OK, (await session.Client.SendAsync("AmazonSSM.PutParameter", new { Name = "/p", Value = "v", Type = "String", Overwrite = true })).Status);
    }

    [Fact]
    public async Task ResetNextConnections_aborts_without_a_response()
    {
        await using var session = await StartAsync();
        session.Emulator.Faults.ResetNextConnections(1, GetSecret);

        await Assert.ThrowsAsync<HttpRequestException>(() => session.Client.SendAsync(GetSecret, new { SecretId = "s" }));
        var next = await session.Client.SendAsync(GetSecret, new { SecretId = "s" });

        Assert.Equal(HttpStatusCode.OK, next.Status);
        Assert.Equal(2, session.Emulator.Requests.Count(GetSecret));
        var reset = session.Emulator.Requests.Snapshot()[0];
        Assert.Equal(EmulatorOutcome.ConnectionReset, reset.Outcome);
        Assert.Equal(0, reset.StatusCode);
    }

    [Fact]
    public async Task Latency_waits_on_the_emulator_clock()
    {
        var time = new SignallingTimeProvider();
        await using var session = await StartAsync(time);
        session.Emulator.Faults.Latency = TimeSpan.FromSeconds(3);

        var pending = session.Client.SendAsync(GetSecret, new { SecretId = "s" });
        await time.WaitForTimerAsync();
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        var response = await pending.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(TimeSpan.FromSeconds(3), session.Emulator.Faults.Latency);
    }

    [Fact]
    public async Task Latency_on_the_system_clock_is_bounded()
    {
        await using var session = await StartAsync();
        session.Emulator.Faults.Latency = TimeSpan.FromMilliseconds(200);

        var started = DateTimeOffset.UtcNow;
        var response = await session.Client.SendAsync(GetSecret, new { SecretId = "s" });
        var elapsed = DateTimeOffset.UtcNow - started;

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.InRange(elapsed, TimeSpan.FromMilliseconds(190), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task ClockSkew_moves_the_signature_window_and_the_Date_header()
    {
        var time = new FakeTimeProvider();
        await using var session = await StartAsync(time);
        session.Emulator.Faults.ClockSkew = TimeSpan.FromMinutes(10);

        var skewed = await session.Client.SendAsync(GetSecret, new { SecretId = "s" });
        Assert.Equal("InvalidSignatureException", skewed.ErrorType);
        Assert.StartsWith("Signature expired:", skewed.Message, StringComparison.Ordinal);

        // A client that corrects its clock from the Date header gets through.
        var serverDate = skewed.Headers.Date!.Value;
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMinutes(10), serverDate);
        var corrected = await session.Client.SendAsync(GetSecret, new { SecretId = "s" }, session.Client.Signing with { SignedAt = serverDate });
        Assert.Equal(HttpStatusCode.OK, corrected.Status);

        session.Emulator.Faults.Clear();
        Assert.Equal(HttpStatusCode.OK, (await session.Client.SendAsync(GetSecret, new { SecretId = "s" })).Status);
    }

    [Fact]
    public async Task Clear_turns_every_fault_off()
    {
        var time = new FakeTimeProvider();
        await using var session = await StartAsync(time);
        var faults = session.Emulator.Faults;
        faults.SetQuota("q", 1);
        faults.FailNext(5);
        faults.ResetNextConnections(5);
        faults.Latency = TimeSpan.FromHours(1);
        faults.ClockSkew = TimeSpan.FromHours(1);

        faults.Clear();

        Assert.All(await SendAsync(session, 3, _ => GetSecret), r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Equal(TimeSpan.Zero, faults.Latency);
        Assert.Equal(TimeSpan.Zero, faults.ClockSkew);
    }

    [Fact]
    public async Task ClearFailures_ends_an_outage_and_keeps_the_quotas()
    {
        var time = new FakeTimeProvider();
        await using var session = await StartAsync(time);
        var faults = session.Emulator.Faults;
        faults.SetQuota("q", 2, GetSecret);
        faults.FailNext(int.MaxValue, 503);
        faults.ResetNextConnections(int.MaxValue, GetParameter);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await SendAsync(session, 1, _ => GetSecret))[0].Status);

        faults.ClearFailures();

        // One token of the two is left (the 503 took one): then the quota, not the outage, answers.
        var after = await SendAsync(session, 2, _ => GetSecret);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.BadRequest], after.Select(r => r.Status));
        Assert.Equal("ThrottlingException", after[1].ErrorType);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(session, 1, _ => GetParameter))[0].Status);
    }

    [Fact]
    public async Task Concurrent_requests_are_counted_exactly()
    {
        await using var session = await StartAsync();
        session.Emulator.Faults.FailNext(25, operation: GetSecret);
        const int perOperation = 200;

        var requests = Enumerable.Range(0, perOperation * 2)
            .Select(i => i % 2 == 0
                ? session.Client.SendAsync(GetSecret, new { SecretId = "s" })
                : session.Client.SendAsync(GetParameter, new { Name = "/p" }))
            .ToList();
        var responses = await Task.WhenAll(requests);

        Assert.Equal(perOperation, session.Emulator.Requests.Count(GetSecret));
        Assert.Equal(perOperation, session.Emulator.Requests.Count(GetParameter));
        Assert.Equal(perOperation * 2, session.Emulator.Requests.Total);
        Assert.Equal(25, responses.Count(r => r.Status == HttpStatusCode.InternalServerError));
        Assert.Equal(perOperation * 2, session.Emulator.Requests.Snapshot().Count);

        session.Emulator.Requests.Reset();
        Assert.Equal(0, session.Emulator.Requests.Total);
        Assert.Empty(session.Emulator.Requests.Snapshot());
    }

    [Fact]
    public async Task Snapshot_records_arrival_time_outcome_and_status()
    {
        var time = new FakeTimeProvider();
        await using var session = await StartAsync(time);

        await session.Client.SendAsync(GetSecret, new { SecretId = "s" });
        time.Advance(TimeSpan.FromSeconds(1));
        await session.Client.SendAsync(GetSecret, new { SecretId = "missing" });

        var log = session.Emulator.Requests.Snapshot();
        Assert.Equal(new EmulatorRequest(GetSecret, time.GetUtcNow() - TimeSpan.FromSeconds(1), EmulatorOutcome.Ok, 200, null) { Region = "us-east-1" }, log[0]);
        Assert.Equal(new EmulatorRequest(GetSecret, time.GetUtcNow(), EmulatorOutcome.NotFound, 400, "ResourceNotFoundException") { Region = "us-east-1" }, log[1]);
    }

    private static async Task<EmulatorSession> StartAsync(FakeTimeProvider? time = null)
    {
        var session = await EmulatorSession.StartAsync(time is null ? null : new AwsEmulatorOptions { TimeProvider = time });
        session.Emulator.CreateSecret("s", "v");
        session.Emulator.PutParameter("/p", "v");
        return session;
    }

    /// <summary>Sends requests one after another, so bucket arithmetic is exact.</summary>
    private static async Task<List<AwsResponse>> SendAsync(EmulatorSession session, int count, Func<int, string> target)
    {
        var responses = new List<AwsResponse>();
        for (var i = 0; i < count; i++)
        {
            var operation = target(i);
            responses.Add(await session.Client.SendAsync(operation, operation == GetParameter ? new { Name = "/p" } : new { SecretId = "s" }));
        }

        return responses;
    }
}

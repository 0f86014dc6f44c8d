using System.Net;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Emulator;

/// <summary>Faults scoped to one region leave the other regions healthy.</summary>
public sealed class RegionalFaultTests
{
    private const string Get = "secretsmanager.GetSecretValue";
    private const string GetParameter = "AmazonSSM.GetParameter";
    private const string East = "us-east-1";
    private const string West = "us-west-2";
    private const string Europe = "eu-west-1";

    [Fact]
    public async Task An_outage_of_one_region_answers_503_to_everything_there_until_cleared()
    {
        await using var session = await StartReplicatedAsync();
        var client = session.Client;
        session.Emulator.Faults.ForRegion(East).FailAll();

        for (var i = 0; i < 3; i++)
        {
            var failed = await client.SendAsync(i % 2 == 0 ? Get : GetParameter, i % 2 == 0 ? new { SecretId = "s" } : new { Name = "/p" });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.Status);
            Assert.Equal("ServiceUnavailable", failed.ErrorType);
        }

        Assert.Equal("v", (await client.CallAsync(Get, new { SecretId = "s" }, West)).GetProperty("SecretString").GetString());
        await client.CallAsync(GetParameter, new { Name = "/p" }, West);
        Assert.Equal(3, session.Emulator.Requests.Snapshot().Count(r => r.Outcome == EmulatorOutcome.Fault && r.Region == East));

        session.Emulator.Faults.ForRegion(East).ClearFailures();
        await client.CallAsync(Get, new { SecretId = "s" });
    }

    [Fact]
    public async Task FailAll_for_one_operation_and_status_and_a_global_clear_ends_regional_outages()
    {
        await using var session = await StartReplicatedAsync();
        var client = session.Client;
        session.Emulator.Faults.ForRegion(East).FailAll(500, Get);

        var failed = await client.SendAsync(Get, new { SecretId = "s" });
        Assert.Equal((HttpStatusCode.InternalServerError, "InternalServiceError"), (failed.Status, failed.ErrorType));
        await client.CallAsync(GetParameter, new { Name = "/p" });

        session.Emulator.Faults.ClearFailures();
        await client.CallAsync(Get, new { SecretId = "s" });
    }

    [Fact]
    public async Task One_shot_failures_and_resets_of_a_region_are_spent_only_by_that_region()
    {
        await using var session = await StartReplicatedAsync();
        var client = session.Client;
        var east = session.Emulator.Faults.ForRegion(East);
        east.FailNext(1);
        east.ResetNextConnections(1);

        await client.CallAsync(Get, new { SecretId = "s" }, West);
        await client.CallAsync(Get, new { SecretId = "s" }, West);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Get, new { SecretId = "s" }));
        Assert.Equal(HttpStatusCode.InternalServerError, (await client.SendAsync(Get, new { SecretId = "s" })).Status);
        await client.CallAsync(Get, new { SecretId = "s" });

        var east1 = session.Emulator.Requests.Snapshot().Where(r => r.Region == East).Select(r => r.Outcome);
        Assert.Equal([EmulatorOutcome.ConnectionReset, EmulatorOutcome.Fault, EmulatorOutcome.Ok], east1);
    }

    [Fact]
    public async Task A_regions_quota_throttles_only_that_region_and_a_global_one_counts_every_region()
    {
        var time = new FakeTimeProvider();
        await using var session = await StartReplicatedAsync(time);
        var client = session.Client;
        session.Emulator.Faults.ForRegion(East).SetQuota("east-reads", 2, Get);

        var east = await SendAsync(session, 3, East);
        var west = await SendAsync(session, 3, West);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.BadRequest], east);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], west);

        session.Emulator.Faults.ClearQuotas(); // the global scope clears every region's quotas
        Assert.All(await SendAsync(session, 3, East), s => Assert.Equal(HttpStatusCode.OK, s));

        session.Emulator.Faults.SetQuota("everywhere", 2, Get);
        var mixed = new[] { await Status(client, East), await Status(client, West), await Status(client, Europe) };
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.BadRequest], mixed);
        Assert.Equal(1, session.Emulator.Requests.Snapshot().Count(r => r.Outcome == EmulatorOutcome.Throttled && r.Region == Europe));
    }

    [Fact]
    public async Task A_regions_latency_holds_only_its_requests_and_adds_to_the_global_latency()
    {
        var time = new SignallingTimeProvider();
        await using var session = await StartReplicatedAsync(time);
        var client = session.Client;
        session.Emulator.Faults.ForRegion(East).Latency = TimeSpan.FromSeconds(30); // longer than a client's timeout: a hung region

        var hung = client.SendAsync(Get, new { SecretId = "s" });
        await time.WaitForTimerAsync();
        Assert.Equal("v", (await client.CallAsync(Get, new { SecretId = "s" }, West)).GetProperty("SecretString").GetString());
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(hung.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await hung.WaitAsync(TimeSpan.FromSeconds(30))).Status);

        session.Emulator.Faults.Latency = TimeSpan.FromSeconds(1);
        var slowest = client.SendAsync(Get, new { SecretId = "s" });
        await time.WaitForTimerAsync();
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.False(slowest.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await slowest.WaitAsync(TimeSpan.FromSeconds(30))).Status);

        session.Emulator.Faults.Clear();
        Assert.Equal(TimeSpan.Zero, session.Emulator.Faults.ForRegion(East).Latency);
    }

    [Fact]
    public async Task Access_rules_can_be_scoped_to_one_region()
    {
        await using var session = await StartReplicatedAsync();
        var client = session.Client;
        var aws = session.Emulator;
        var westArn = aws.ReplicateSecretToRegions("s", Europe)[0].Replace(Europe, West, StringComparison.Ordinal);

        aws.FailDecryption("s", region: East); // the primary region's KMS key is disabled; the replica's is not
        await client.FailAsync(Get, new { SecretId = "s" }, "DecryptionFailure");
        await client.CallAsync(Get, new { SecretId = "s" }, West);

        aws.DenyAccess("s"); // every region
        await client.FailAsync(Get, new { SecretId = "s" }, "AccessDeniedException", region: West);
        await client.FailAsync(Get, new { SecretId = "s" }, "AccessDeniedException", region: Europe);
        aws.RestoreAccess(westArn); // an ARN names its region: lifted in us-west-2 only
        await client.CallAsync(Get, new { SecretId = "s" }, West);
        await client.FailAsync(Get, new { SecretId = "s" }, "AccessDeniedException", region: Europe);

        aws.RestoreAccess("s");
        await client.CallAsync(Get, new { SecretId = "s" });
        await client.CallAsync(Get, new { SecretId = "s" }, Europe);
    }

    [Fact]
    public async Task A_region_faults_are_concurrency_exact()
    {
        await using var session = await StartReplicatedAsync();
        session.Emulator.Faults.ForRegion(East).FailNext(25);

        var answers = await Task.WhenAll(Enumerable.Range(0, 80).Select(i => session.Client.SendAsync(Get, new { SecretId = "s" }, session.Client.In(i % 2 == 0 ? East : West))));

        Assert.Equal(25, answers.Count(a => a.Status == HttpStatusCode.InternalServerError));
        Assert.Equal(15, session.Emulator.Requests.Snapshot().Count(r => r.Region == East && r.Outcome == EmulatorOutcome.Ok));
        Assert.Equal(40, session.Emulator.Requests.Count(Get, West));
    }

    private static async Task<EmulatorSession> StartReplicatedAsync(TimeProvider? time = null)
    {
        var session = await RegionTests.StartAsync(time);
        session.Emulator.CreateSecret("s", "v");
        session.Emulator.ReplicateSecretToRegions("s", West);
        session.Emulator.PutParameter("/p", "p", "String");
        session.Emulator.PutParameter("/p", "p", "String", region: West);
        return session;
    }

    private static async Task<List<HttpStatusCode>> SendAsync(EmulatorSession session, int count, string region)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            statuses.Add(await Status(session.Client, region));
        }

        return statuses;
    }

    private static async Task<HttpStatusCode> Status(AwsTestClient client, string region) =>
        (await client.SendAsync(Get, new { SecretId = "s" }, client.In(region))).Status;
}

using System.Text.Json;
using System.Text.RegularExpressions;
using SecretsCache.IntegrationTests.Emulator.Support;

namespace SecretsCache.IntegrationTests.Emulator;

/// <summary>Multi-Region secrets: replicas in other regions, kept in step with their primary, read-only.</summary>
public sealed class ReplicationTests
{
    private const string Get = "secretsmanager.GetSecretValue";
    private const string Create = "secretsmanager.CreateSecret";
    private const string Describe = "secretsmanager.DescribeSecret";
    private const string Put = "secretsmanager.PutSecretValue";
    private const string UpdateStage = "secretsmanager.UpdateSecretVersionStage";
    private const string Delete = "secretsmanager.DeleteSecret";
    private const string Replicate = "secretsmanager.ReplicateSecretToRegions";
    private const string RemoveRegions = "secretsmanager.RemoveRegionsFromReplication";
    private const string Stop = "secretsmanager.StopReplicationToReplica";
    private const string West = "us-west-2";
    private const string Europe = "eu-west-1";
    private const string ReadOnly = "Operation not permitted on a replica secret. Call must be made in primary secret's region.";

    [Fact]
    public async Task CreateSecret_with_AddReplicaRegions_makes_replicas_with_the_same_name_suffix_and_versions()
    {
        await using var session = await RegionTests.StartAsync();
        var client = session.Client;

        var created = await client.CallAsync(Create, new
        {
            Name = "app/db",
            SecretString = "v1",
            AddReplicaRegions = new object[] { new { Region = West }, new { Region = Europe, KmsKeyId = "alias/europe" } },
        });

        var arn = created.GetProperty("ARN").GetString()!;
        var suffix = Regex.Match(arn, "^arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-([A-Za-z0-9]{6})$").Groups[1].Value;
        Assert.Equal(6, suffix.Length);
        Assert.Equal([(West, "InSync"), (Europe, "InSync")], Statuses(created));
        var versionId = created.GetProperty("VersionId").GetString();
        foreach (var region in new[] { West, Europe })
        {
            var replica = await client.CallAsync(Get, new { SecretId = "app/db" }, region);
            Assert.Equal($"arn:aws:secretsmanager:{region}:123456789012:secret:app/db-{suffix}", replica.GetProperty("ARN").GetString());
            Assert.Equal("app/db", replica.GetProperty("Name").GetString());
            Assert.Equal(versionId, replica.GetProperty("VersionId").GetString());
            Assert.Equal("v1", replica.GetProperty("SecretString").GetString());
            Assert.Equal(["AWSCURRENT"], Stages(replica));
        }

        // The replica ARN resolves in its region; Parameter Store's passthrough reads the replica too.
        var byArn = await client.CallAsync(Get, new { SecretId = $"arn:aws:secretsmanager:{West}:123456789012:secret:app/db-{suffix}" }, West);
        Assert.Equal("v1", byArn.GetProperty("SecretString").GetString());
        var passthrough = await client.CallAsync("AmazonSSM.GetParameter", new { Name = "/aws/reference/secretsmanager/app/db", WithDecryption = true }, Europe);
        Assert.Equal("v1", passthrough.GetProperty("Parameter").GetProperty("Value").GetString());
    }

    [Fact]
    public async Task ReplicateSecretToRegions_copies_an_existing_secret_with_all_its_versions()
    {
        await using var session = await RegionTests.StartAsync();
        var aws = session.Emulator;
        var arn = aws.CreateSecret("s", "v1");
        var v2 = aws.PutSecretValue("s", "v2");

        var answer = await session.Client.CallAsync(Replicate, new { SecretId = "s", AddReplicaRegions = new[] { new { Region = West } } });
        var replicaArns = aws.ReplicateSecretToRegions(arn, Europe, West); // West is already a replica: left as it is

        Assert.Equal(arn, answer.GetProperty("ARN").GetString());
        Assert.Equal([(West, "InSync")], Statuses(answer));
        Assert.Equal([arn.Replace("us-east-1", Europe, StringComparison.Ordinal), arn.Replace("us-east-1", West, StringComparison.Ordinal)], replicaArns);
        var current = await session.Client.CallAsync(Get, new { SecretId = "s" }, West);
        var previous = await session.Client.CallAsync(Get, new { SecretId = "s", VersionStage = "AWSPREVIOUS" }, Europe);
        Assert.Equal((v2, "v2"), (current.GetProperty("VersionId").GetString(), current.GetProperty("SecretString").GetString()));
        Assert.Equal("v1", previous.GetProperty("SecretString").GetString());
    }

    [Fact]
    public async Task DescribeSecret_names_the_primary_region_and_the_replicas_status()
    {
        await using var session = await RegionTests.StartAsync();
        var client = session.Client;
        session.Emulator.CreateSecret("plain", "v");
        await client.CallAsync(Create, new { Name = "s", SecretString = "v", AddReplicaRegions = new[] { new { Region = West, KmsKeyId = "alias/west" } } });

        var plain = await client.CallAsync(Describe, new { SecretId = "plain" });
        Assert.False(plain.TryGetProperty("PrimaryRegion", out _));
        Assert.False(plain.TryGetProperty("ReplicationStatus", out _));

        var primary = await client.CallAsync(Describe, new { SecretId = "s" });
        Assert.Equal("us-east-1", primary.GetProperty("PrimaryRegion").GetString());
        var status = Assert.Single(primary.GetProperty("ReplicationStatus").EnumerateArray());
        Assert.Equal((West, "alias/west", "InSync"), (status.GetProperty("Region").GetString(), status.GetProperty("KmsKeyId").GetString(), status.GetProperty("Status").GetString()));
        Assert.False(status.TryGetProperty("LastAccessedDate", out _)); // never read in the region

        var replica = await client.CallAsync(Describe, new { SecretId = "s" }, West);
        Assert.Equal("us-east-1", replica.GetProperty("PrimaryRegion").GetString());
        Assert.False(replica.TryGetProperty("ReplicationStatus", out _));
        Assert.Equal("alias/west", replica.GetProperty("KmsKeyId").GetString());

        await client.CallAsync(Get, new { SecretId = "s" }, West);
        var afterRead = await client.CallAsync(Describe, new { SecretId = "s" });
        Assert.Equal(JsonValueKind.Number, afterRead.GetProperty("ReplicationStatus")[0].GetProperty("LastAccessedDate").ValueKind);
    }

    [Fact]
    public async Task New_versions_and_rotation_stage_moves_reach_the_replicas_at_once_without_lag()
    {
        await using var session = await RegionTests.StartAsync();
        var client = session.Client;
        var aws = session.Emulator;
        aws.CreateSecret("s", "v1");
        aws.ReplicateSecretToRegions("s", West);

        var v2 = (await client.CallAsync(Put, new { SecretId = "s", SecretString = "v2" })).GetProperty("VersionId").GetString();
        Assert.Equal("v2", await ValueIn(session, West));

        // A rotation: the new version is staged AWSPENDING, then AWSCURRENT moves onto it.
        var v3 = (await client.CallAsync(Put, new { SecretId = "s", SecretString = "v3", VersionStages = new[] { "AWSPENDING" } })).GetProperty("VersionId").GetString();
        var pending = await client.CallAsync(Get, new { SecretId = "s", VersionStage = "AWSPENDING" }, West);
        Assert.Equal((v3, "v3"), (pending.GetProperty("VersionId").GetString(), pending.GetProperty("SecretString").GetString()));
        Assert.Equal("v2", await ValueIn(session, West));

        await client.CallAsync(UpdateStage, new { SecretId = "s", VersionStage = "AWSCURRENT", MoveToVersionId = v3, RemoveFromVersionId = v2 });
        var current = await client.CallAsync(Get, new { SecretId = "s" }, West);
        var previous = await client.CallAsync(Get, new { SecretId = "s", VersionStage = "AWSPREVIOUS" }, West);
        Assert.Equal(v3, current.GetProperty("VersionId").GetString());
        Assert.Equal(["AWSPENDING", "AWSCURRENT"], Stages(current));
        Assert.Equal(v2, previous.GetProperty("VersionId").GetString());

        // Seeding writes propagate the same way.
        aws.PutSecretValue("s", "v4");
        Assert.Equal("v4", await ValueIn(session, West));
    }

    [Fact]
    public async Task With_a_lag_replicas_are_created_and_updated_only_once_it_has_passed_on_the_emulator_clock()
    {
        var time = new FakeTimeProvider();
        await using var session = await RegionTests.StartAsync(time);
        var client = session.Client;
        var aws = session.Emulator;
        aws.ReplicationLag = TimeSpan.FromSeconds(10);
        aws.CreateSecret("s", "v1");

        var answer = await client.CallAsync(Replicate, new { SecretId = "s", AddReplicaRegions = new[] { new { Region = West } } });
        Assert.Equal([(West, "InProgress")], Statuses(answer));
        await client.FailAsync(Get, new { SecretId = "s" }, "ResourceNotFoundException", region: West);
        time.Advance(TimeSpan.FromSeconds(9.9));
        await client.FailAsync(Get, new { SecretId = "s" }, "ResourceNotFoundException", region: West);
        time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal("v1", await ValueIn(session, West));
        Assert.Equal([(West, "InSync")], Statuses(await client.CallAsync(Describe, new { SecretId = "s" })));

        aws.PutSecretValue("s", "v2");
        time.Advance(TimeSpan.FromSeconds(5));
        aws.PutSecretValue("s", "v3");
        Assert.Equal("v3", await ValueIn(session, "us-east-1"));
        Assert.Equal("v1", await ValueIn(session, West));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("v2", await ValueIn(session, West));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("v3", await ValueIn(session, West));
    }

    [Fact]
    public async Task A_newer_copy_supersedes_an_older_one_still_on_its_way()
    {
        var time = new FakeTimeProvider();
        await using var session = await RegionTests.StartAsync(time);
        var aws = session.Emulator;
        aws.CreateSecret("s", "v1");
        aws.ReplicateSecretToRegions("s", West);

        aws.ReplicationLag = TimeSpan.FromMinutes(1);
        aws.PutSecretValue("s", "slow");
        aws.ReplicationLag = TimeSpan.Zero;
        aws.PutSecretValue("s", "fast");
        Assert.Equal("fast", await ValueIn(session, West));

        time.Advance(TimeSpan.FromMinutes(2)); // the older copy must not land over the newer one
        Assert.Equal("fast", await ValueIn(session, West));
        var previous = await session.Client.CallAsync(Get, new { SecretId = "s", VersionStage = "AWSPREVIOUS" }, West);
        Assert.Equal("slow", previous.GetProperty("SecretString").GetString()); // the newer copy carried the older write too
    }

    [Fact]
    public async Task Replicas_are_read_only()
    {
        await using var session = await RegionTests.StartAsync();
        var client = session.Client;
        var aws = session.Emulator;
        aws.CreateSecret("s", "v1");
        var replicaArn = aws.ReplicateSecretToRegions("s", West)[0];
        var versionId = (await client.CallAsync(Get, new { SecretId = "s" }, West)).GetProperty("VersionId").GetString();

        var refusals = new[]
        {
            await client.FailAsync(Put, new { SecretId = "s", SecretString = "x" }, "InvalidParameterException", region: West),
            await client.FailAsync(UpdateStage, new { SecretId = replicaArn, VersionStage = "MINE", MoveToVersionId = versionId }, "InvalidParameterException", region: West),
            await client.FailAsync(Delete, new { SecretId = "s", ForceDeleteWithoutRecovery = true }, "InvalidParameterException", region: West),
            await client.FailAsync(Replicate, new { SecretId = "s", AddReplicaRegions = new[] { new { Region = Europe } } }, "InvalidParameterException", region: West),
            await client.FailAsync(RemoveRegions, new { SecretId = "s", RemoveReplicaRegions = new[] { "us-east-1" } }, "InvalidParameterException", region: West),
        };

        Assert.All(refusals, r => Assert.Equal(ReadOnly, r.Message));
        Assert.StartsWith("InvalidParameterException: " + ReadOnly, Assert.Throws<InvalidOperationException>(() => aws.PutSecretValue(replicaArn, "x")).Message, StringComparison.Ordinal);
        await client.FailAsync(Create, new { Name = "s", SecretString = "x" }, "ResourceExistsException", region: West);
        Assert.Equal("v1", await ValueIn(session, West));
        Assert.Equal(["AWSCURRENT"], Stages(await client.CallAsync(Get, new { SecretId = "s" }, West)));
    }

    [Fact]
    public async Task A_primary_with_replicas_is_deleted_only_after_RemoveRegionsFromReplication()
    {
        await using var session = await RegionTests.StartAsync();
        var client = session.Client;
        var arn = session.Emulator.CreateSecret("s", "v1");
        session.Emulator.ReplicateSecretToRegions("s", West, Europe);

        var refused = await client.FailAsync(Delete, new { SecretId = "s" }, "InvalidParameterException");
        Assert.Equal($"You can't delete secret {arn} that still has replica regions [us-west-2, eu-west-1].", refused.Message);
        await client.FailAsync(RemoveRegions, new { SecretId = "s", RemoveReplicaRegions = new[] { "ap-south-1" } }, "InvalidParameterException");

        var removed = await client.CallAsync(RemoveRegions, new { SecretId = "s", RemoveReplicaRegions = new[] { West } });
        Assert.Equal(arn, removed.GetProperty("ARN").GetString());
        Assert.Equal([(Europe, "InSync")], Statuses(removed));
        await client.FailAsync(Get, new { SecretId = "s" }, "ResourceNotFoundException", region: West);
        Assert.Throws<InvalidOperationException>(() => session.Emulator.DeleteSecret("s"));

        session.Emulator.RemoveRegionsFromReplication("s", Europe);
        await client.FailAsync(Get, new { SecretId = "s" }, "ResourceNotFoundException", region: Europe);
        await client.CallAsync(Delete, new { SecretId = "s", ForceDeleteWithoutRecovery = true });
    }

    [Fact]
    public async Task StopReplicationToReplica_promotes_the_replica_to_a_standalone_primary()
    {
        var time = new FakeTimeProvider();
        await using var session = await RegionTests.StartAsync(time);
        var client = session.Client;
        var aws = session.Emulator;
        var arn = aws.CreateSecret("s", "v1");
        aws.ReplicateSecretToRegions("s", West, Europe);
        aws.ReplicationLag = TimeSpan.FromSeconds(10);
        aws.PutSecretValue("s", "v2"); // on its way when the replica is promoted: it never lands there

        await client.FailAsync(Stop, new { SecretId = "s" }, "InvalidRequestException"); // the primary is no replica
        var promoted = await client.CallAsync(Stop, new { SecretId = "s" }, West);
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(arn.Replace("us-east-1", West, StringComparison.Ordinal), promoted.GetProperty("ARN").GetString());
        Assert.Equal("v1", await ValueIn(session, West));
        Assert.Equal("v2", await ValueIn(session, Europe));
        Assert.Equal([(Europe, "InSync")], Statuses(await client.CallAsync(Describe, new { SecretId = "s" })));
        Assert.False((await client.CallAsync(Describe, new { SecretId = "s" }, West)).TryGetProperty("PrimaryRegion", out _));
        await client.CallAsync(Put, new { SecretId = "s", SecretString = "west's own" }, West);
        Assert.Equal("west's own", await ValueIn(session, West));
    }

    [Fact]
    public async Task A_region_holding_another_secret_of_that_name_fails_the_replica_unless_overwriting_is_forced()
    {
        await using var session = await RegionTests.StartAsync();
        var client = session.Client;
        var aws = session.Emulator;
        var arn = aws.CreateSecret("s", "primary");
        aws.CreateSecret("s", "west's own", region: West);

        var failed = await client.CallAsync(Replicate, new { SecretId = "s", AddReplicaRegions = new[] { new { Region = West } } });
        var status = Assert.Single(failed.GetProperty("ReplicationStatus").EnumerateArray());
        Assert.Equal(("Failed", "Secret with this name already exists in this region"), (status.GetProperty("Status").GetString(), status.GetProperty("StatusMessage").GetString()));
        Assert.Equal("west's own", await ValueIn(session, West));
        aws.PutSecretValue("s", "primary-2"); // a failed replica receives nothing
        Assert.Equal("west's own", await ValueIn(session, West));
        Assert.Contains("Secret with this name already exists in this region", Assert.Throws<InvalidOperationException>(() => aws.ReplicateSecretToRegions("s", West)).Message, StringComparison.Ordinal);

        var forced = await client.CallAsync(Replicate, new { SecretId = "s", AddReplicaRegions = new[] { new { Region = West } }, ForceOverwriteReplicaSecret = true });
        Assert.Equal([(West, "InSync")], Statuses(forced));
        var replica = await client.CallAsync(Get, new { SecretId = "s" }, West);
        Assert.Equal(("primary-2", arn.Replace("us-east-1", West, StringComparison.Ordinal)), (replica.GetProperty("SecretString").GetString(), replica.GetProperty("ARN").GetString()));
    }

    [Fact]
    public async Task Replica_regions_must_be_other_regions_the_emulator_serves()
    {
        await using var session = await RegionTests.StartAsync();
        var client = session.Client;
        session.Emulator.CreateSecret("s", "v");

        var own = await client.FailAsync(Replicate, new { SecretId = "s", AddReplicaRegions = new[] { new { Region = "us-east-1" } } }, "InvalidParameterException");
        var unserved = await client.FailAsync(Create, new { Name = "t", SecretString = "v", AddReplicaRegions = new[] { new { Region = "ap-south-1" } } }, "InvalidParameterException");
        await client.FailAsync(Replicate, new { SecretId = "missing", AddReplicaRegions = new[] { new { Region = West } } }, "ResourceNotFoundException");

        Assert.Contains("us-east-1", own.Message, StringComparison.Ordinal);
        Assert.Contains("ap-south-1", unserved.Message, StringComparison.Ordinal);
        await client.FailAsync(Get, new { SecretId = "t" }, "ResourceNotFoundException"); // refused before anything was created
        Assert.Throws<ArgumentException>(() => session.Emulator.ReplicateSecretToRegions("s", "us-east-1"));
        Assert.Throws<ArgumentException>(() => session.Emulator.ReplicateSecretToRegions("s", "ap-south-1"));
    }

    [Fact]
    public async Task Concurrent_writes_to_the_primary_and_reads_of_the_replica_never_see_a_torn_copy()
    {
        await using var session = await RegionTests.StartAsync();
        var client = session.Client;
        var arn = session.Emulator.CreateSecret("s", "v0");
        session.Emulator.ReplicateSecretToRegions("s", West);
        var v0 = (await client.CallAsync(Get, new { SecretId = "s" })).GetProperty("VersionId").GetString()!;

        var writes = Enumerable.Range(1, 30).Select(async i =>
        {
            var put = await client.CallAsync(Put, new { SecretId = "s", SecretString = $"v{i}" });
            return (Id: put.GetProperty("VersionId").GetString()!, Value: $"v{i}");
        }).ToList();
        var reads = Enumerable.Range(0, 30).Select(_ => client.CallAsync(Get, new { SecretId = "s" }, West)).ToList();
        var written = (await Task.WhenAll(writes)).ToDictionary(w => w.Id, w => w.Value);
        written[v0] = "v0";

        foreach (var read in await Task.WhenAll(reads))
        {
            var id = read.GetProperty("VersionId").GetString()!;
            var value = read.GetProperty("SecretString").GetString();
            Assert.True(written.GetValueOrDefault(id) == value, $"the replica answered {value} for version {id}");
        }

        var primary = await client.CallAsync(Describe, new { SecretId = "s" });
        var replica = await client.CallAsync(Describe, new { SecretId = "s" }, West);
        Assert.Equal(primary.GetProperty("VersionIdsToStages").ToString(), replica.GetProperty("VersionIdsToStages").ToString());
        Assert.Equal(arn.Replace("us-east-1", West, StringComparison.Ordinal), replica.GetProperty("ARN").GetString());
    }

    private static async Task<string?> ValueIn(EmulatorSession session, string region) =>
        (await session.Client.CallAsync(Get, new { SecretId = "s" }, region)).GetProperty("SecretString").GetString();

    private static List<(string?, string?)> Statuses(JsonElement answer) =>
        answer.GetProperty("ReplicationStatus").EnumerateArray().Select(s => (s.GetProperty("Region").GetString(), s.GetProperty("Status").GetString())).ToList();

    private static List<string?> Stages(JsonElement value) =>
        value.GetProperty("VersionStages").EnumerateArray().Select(s => s.GetString()).ToList();
}

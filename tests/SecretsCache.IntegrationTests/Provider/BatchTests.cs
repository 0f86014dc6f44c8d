using Microsoft.Extensions.Logging.Testing;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.IntegrationTests.Provider.Support;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>WarmUpAsync: BatchGetSecretValue (20 ids a call) and GetParameters (10 names a call), partial errors, fallbacks.</summary>
public sealed class BatchTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    private const string BatchGetSecretValue = "secretsmanager.BatchGetSecretValue";
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private const string GetParameters = "AmazonSSM.GetParameters";
    private const string GetParameter = "AmazonSSM.GetParameter";

    [Fact]
    public async Task Warming_45_secrets_takes_three_batch_calls_and_every_later_read_is_a_hit()
    {
        var names = CreateSecrets("warm", 45, "value-");

        var provider = CreateProvider();

        var result = await provider.WarmUpAsync(names);

        Assert.True(result.Succeeded);
        Assert.Equal(45, result.Loaded);
        Assert.Equal(3, Aws.Requests.Count(BatchGetSecretValue));
        Assert.Equal(0, Aws.Requests.Count(GetSecretValue));
        foreach (var name in names)
        {
            var secret = await provider.GetAsync(name);
            Assert.Equal("value-" + name, secret.GetString());
            Assert.Equal(["AWSCURRENT"], secret.VersionStages);
            Assert.NotNull(secret.VersionId);
        }

        Assert.Equal(3, Aws.Requests.Total);
    }

    [Fact]
    public async Task Batch_errors_are_mapped_per_secret_and_the_rest_load()
    {
        var present = Enumerable.Range(0, 4).Select(_ => SecretName("ok")).ToList();
        foreach (var name in present)
        {
            Aws.CreateSecret(name, "loaded-" + name);
        }

        var missing = SecretName("missing");
        var denied = SecretName("denied");
        Aws.CreateSecret(denied, "denied-value");
        Aws.DenyAccess(denied);
        var undecryptable = SecretName("kms");
        Aws.CreateSecret(undecryptable, "kms-value");
        Aws.FailDecryption(undecryptable);
        var logs = new FakeLoggerProvider();
        var provider = CreateProvider(logs: logs);

        var result = await provider.WarmUpAsync([.. present, missing, denied, undecryptable]);

        Assert.Equal(4, result.Loaded);
        Assert.Equal(3, result.Failures.Count);
        Assert.IsType<SecretNotFoundException>(result.Failures[missing]);
        Assert.IsType<SecretAccessDeniedException>(result.Failures[denied]);
        Assert.IsType<SecretDecryptionException>(result.Failures[undecryptable]);
        Assert.Equal(1, Aws.Requests.Count(BatchGetSecretValue));
        Assert.Equal(0, Aws.Requests.Count(GetSecretValue));

        // The missing one is cached as not found; the loaded ones are hits.
        await Assert.ThrowsAsync<SecretNotFoundException>(() => provider.GetAsync(missing).AsTask());
        foreach (var name in present)
        {
            Assert.Equal("loaded-" + name, await provider.GetStringAsync(name));
        }

        Assert.Equal(1, Aws.Requests.Total);
        var aggregate = Assert.Throws<AggregateException>(result.ThrowIfAnyFailed);
        NoValueLeaks.InException(aggregate, "denied-value", "kms-value");
        NoValueLeaks.InLogs(logs, "denied-value", "kms-value");
    }

    [Fact]
    public async Task Pinned_versions_fall_back_to_single_reads_and_the_rest_share_a_batch()
    {
        var a = SecretName("a");
        var b = SecretName("b");
        Aws.CreateSecret(a, "a1");
        Aws.PutSecretValue(a, "a2");
        Aws.CreateSecret(b, "b1");
        var bVersion = (await CreateProvider().GetAsync(b)).VersionId;
        Aws.Requests.Reset();
        var provider = CreateProvider();

        var result = await provider.WarmUpAsync([a, b, $"{a}?stage=AWSPREVIOUS", $"{b}?versionId={bVersion}"]);

        Assert.True(result.Succeeded);
        Assert.Equal(4, result.Loaded);
        Assert.Equal(1, Aws.Requests.Count(BatchGetSecretValue));
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));
        Assert.Equal("a1", await provider.GetStringAsync($"{a}?stage=AWSPREVIOUS"));
        Assert.Equal("a2", await provider.GetStringAsync(a));
        Assert.Equal("b1", await provider.GetStringAsync($"{b}?versionId={bVersion}"));
        Assert.Equal(3, Aws.Requests.Total);
    }

    [Fact]
    public async Task A_batch_call_refused_outright_falls_back_to_single_reads()
    {
        var names = CreateSecrets("nobatch", 3, "v-");

        Aws.Faults.FailNextWith("AccessDeniedException", 1, BatchGetSecretValue);
        var provider = CreateProvider();

        var result = await provider.WarmUpAsync(names);

        Assert.True(result.Succeeded);
        Assert.Equal(1, Aws.Requests.Count(BatchGetSecretValue));
        Assert.Equal(3, Aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task A_transient_batch_failure_is_retried()
    {
        var names = CreateSecrets("retry", 3, "v-");

        Aws.Faults.FailNext(1, 503, BatchGetSecretValue);
        var provider = CreateProvider();

        var result = await provider.WarmUpAsync(names);

        Assert.True(result.Succeeded);
        Assert.Equal(2, Aws.Requests.Count(BatchGetSecretValue));
        Assert.Equal(0, Aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task Warming_25_parameters_takes_three_GetParameters_calls_and_invalid_names_are_not_found()
    {
        var root = ParameterRoot();
        var names = Enumerable.Range(0, 23).Select(i => $"{root}p{i:00}").ToList();
        foreach (var name in names)
        {
            Aws.PutParameter(name, "value-" + name, "String");
        }

        var missing = new[] { root + "missing", root + "p00:7" };
        var references = names.Select(n => "ssm:" + n).Concat(missing.Select(n => "ssm:" + n)).ToList();
        var provider = CreateProvider();

        var result = await provider.WarmUpAsync(references);

        Assert.Equal(23, result.Loaded);
        Assert.Equal(2, result.Failures.Count);
        Assert.All(missing, n => Assert.IsType<SecretNotFoundException>(result.Failures["ssm:" + n]));
        Assert.Equal(3, Aws.Requests.Count(GetParameters));
        Assert.Equal(0, Aws.Requests.Count(GetParameter));
        foreach (var name in names)
        {
            Assert.Equal("value-" + name, await provider.GetStringAsync("ssm:" + name));
        }

        await Assert.ThrowsAsync<SecretNotFoundException>(() => provider.GetAsync($"ssm:{root}missing").AsTask());
        Assert.Equal(3, Aws.Requests.Total);
    }

    [Fact]
    public async Task Warming_parameters_with_selectors_passthroughs_and_secrets_together()
    {
        var root = ParameterRoot();
        var parameter = root + "labelled";
        Aws.PutParameter(parameter, "one", "String");
        Aws.PutParameter(parameter, "two", "String");
        Aws.LabelParameterVersion(parameter, 1, "golden");
        var secret = SecretName("mixed");
        Aws.CreateSecret(secret, "s1");
        Aws.PutSecretValue(secret, "s2");
        var provider = CreateProvider();

        var references = new[]
        {
            "ssm:" + parameter, $"ssm:{parameter}:1", $"ssm:{parameter}:golden",
            "/aws/reference/secretsmanager/" + secret, $"/aws/reference/secretsmanager/{secret}:AWSPREVIOUS",
            secret,
        };
        var result = await provider.WarmUpAsync(references);

        Assert.True(result.Succeeded, string.Join("; ", result.Failures.Select(f => $"{f.Key}: {f.Value.Message}")));
        Assert.Equal(6, result.Loaded);
        Assert.Equal(1, Aws.Requests.Count(GetParameters));
        Assert.Equal(1, Aws.Requests.Count(BatchGetSecretValue));
        Assert.Equal(2, Aws.Requests.Total);

        Assert.Equal("two", await provider.GetStringAsync("ssm:" + parameter));
        Assert.Equal("one", await provider.GetStringAsync($"ssm:{parameter}:1"));
        Assert.Equal("one", await provider.GetStringAsync($"ssm:{parameter}:golden"));
        var previous = await provider.GetAsync($"/aws/reference/secretsmanager/{secret}:AWSPREVIOUS");
        Assert.Equal("s1", previous.GetString());
        Assert.Equal(["AWSPREVIOUS"], previous.VersionStages);
        var current = await provider.GetAsync("/aws/reference/secretsmanager/" + secret);
        Assert.Equal("s2", current.GetString());
        Assert.Equal((await provider.GetAsync(secret)).VersionId, current.VersionId);
        Assert.Equal(2, Aws.Requests.Total);
    }

    [Fact]
    public async Task When_the_batch_budget_is_a_small_fleet_share_warm_up_reads_one_by_one_under_the_larger_budget()
    {
        var names = CreateSecrets("share", 45, "value-");

        // 0.5 BatchGetSecretValue/s is below one request of burst, so that bucket starts empty (its first token comes at a
        // random moment on this clock, which does not move); 20 x 0.5 secrets/s by batch is far slower than 1,000/s singly,
        // whose burst of 100 covers the 45 reads without a refill.
        var provider = CreateProvider(
            o =>
            {
                o.RateLimits.SecretsManagerBatchRequestsPerSecond = 0.5;
                o.RateLimits.SecretsManagerRequestsPerSecond = 1_000;
            },
            new FakeTimeProvider(TimeProvider.System.GetUtcNow()));

        var result = await provider.WarmUpAsync(names);

        Assert.True(result.Succeeded);
        Assert.Equal(0, Aws.Requests.Count(BatchGetSecretValue));
        Assert.Equal(45, Aws.Requests.Count(GetSecretValue));
        foreach (var name in names)
        {
            Assert.Equal("value-" + name, await provider.GetStringAsync(name));
        }

        Assert.Equal(45, Aws.Requests.Total);
    }

    [Fact]
    public async Task A_batch_the_fail_fast_batch_budget_refuses_is_read_one_by_one_instead_of_failing()
    {
        var names = CreateSecrets("refused", 60, "value-");

        // A burst of one or two batch tokens and no refill (the clock does not move); batches would move secrets faster (100 x 20
        // against 1,000/s), so each chunk asks for one, and the budget refuses the rest at once (fail-fast).
        var provider = CreateProvider(
            o =>
            {
                o.RateLimits.SecretsManagerBatchRequestsPerSecond = 100;
                o.RateLimits.SecretsManagerRequestsPerSecond = 1_000;
                o.RateLimits.BurstSeconds = 0.01;
                o.RateLimits.Behavior = RateLimitBehavior.FailFast;
            },
            new FakeTimeProvider(TimeProvider.System.GetUtcNow()));

        var result = await provider.WarmUpAsync(names);

        Assert.True(result.Succeeded, string.Join(", ", result.Failures.Values.Select(e => e.GetType().Name).Distinct()));
        var batches = Aws.Requests.Count(BatchGetSecretValue);
        Assert.InRange(batches, 1, 2); // the burst rounds to one or two requests
        Assert.Equal(60 - (20 * batches), Aws.Requests.Count(GetSecretValue));
        Assert.Equal("value-" + names[59], await provider.GetStringAsync(names[59]));
    }

    [Fact]
    public async Task When_batches_move_secrets_faster_even_after_waiting_warm_up_waits_for_the_batch_budget()
    {
        var names = CreateSecrets("lane", 60, "value-");

        // One batch token now, then 10/s: 200 secrets/s by batch beats 50/s singly, so chunks two and three wait for it.
        var provider = CreateProvider(o =>
        {
            o.RateLimits.SecretsManagerBatchRequestsPerSecond = 10;
            o.RateLimits.SecretsManagerRequestsPerSecond = 50;
        });

        var result = await provider.WarmUpAsync(names);

        Assert.True(result.Succeeded);
        Assert.Equal(3, Aws.Requests.Count(BatchGetSecretValue));
        Assert.Equal(0, Aws.Requests.Count(GetSecretValue));
    }
}

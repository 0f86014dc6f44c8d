using System.Net;
using Microsoft.Extensions.Logging.Testing;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.IntegrationTests.Provider.Support;
using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>
/// Retries, throttling, timeouts, resets and the errors that are never retried. The emulator's clock is frozen, so its
/// quotas refill and its latency ends only when a test says so; the provider runs on the real clock.
/// </summary>
public sealed class ResilienceTests(FrozenClockAwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<FrozenClockAwsFixture>
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private const string GetParameter = "AmazonSSM.GetParameter";

    private readonly FrozenClockAwsFixture _fixture = fixture;

    [Fact]
    public async Task Two_503s_then_success_is_one_read_of_exactly_three_requests()
    {
        var name = SecretName("flaky");
        Aws.CreateSecret(name, "eventually");
        Aws.Faults.FailNext(2, 503, GetSecretValue);
        var provider = CreateProvider();

        var secret = await provider.GetAsync(name);

        Assert.Equal("eventually", secret.GetString());
        Assert.Equal(3, Aws.Requests.Count(GetSecretValue));
        Assert.Equal([EmulatorOutcome.Fault, EmulatorOutcome.Fault, EmulatorOutcome.Ok], Aws.Requests.Snapshot().Select(r => r.Outcome));
    }

    [Fact]
    public async Task Five_hundreds_past_the_retry_budget_surface_as_service_unavailable_after_max_attempts_plus_one()
    {
        var name = SecretName("down");
        Aws.CreateSecret(name, "down-value");
        Aws.Faults.FailNext(10, 500, GetSecretValue);
        var logs = new FakeLoggerProvider();
        var provider = CreateProvider(o => o.Retry.MaxRetryAttempts = 2, logs: logs);

        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => provider.GetAsync(name).AsTask());

        Assert.True(error.IsTransient);
        Assert.Equal("InternalServiceError", error.ErrorCode);
        Assert.Equal(3, Aws.Requests.Count(GetSecretValue));
        NoValueLeaks.InException(error, "down-value");
        NoValueLeaks.InLogs(logs, "down-value");
    }

    [Fact]
    public async Task Concurrent_reads_under_a_quota_that_never_refills_succeed_or_throttle_within_max_attempts_plus_one()
    {
        const int reads = 6;
        const int maxRetries = 3;
        var names = Enumerable.Range(0, reads).Select(_ => SecretName("quota")).ToList();
        foreach (var name in names)
        {
            Aws.CreateSecret(name, "q-" + name);
        }

        Aws.Faults.SetQuota("sm", 2, GetSecretValue); // a burst of 2, and the frozen clock never adds a token
        var provider = CreateProvider(o => o.Retry.MaxThrottlingRetryAttempts = maxRetries);

        var outcomes = await Task.WhenAll(names.Select(async name =>
        {
            try
            {
                return (Value: await provider.GetStringAsync(name), Error: (Exception?)null);
            }
            catch (Exception ex)
            {
                return (Value: (string?)null, Error: ex);
            }
        }));

        var succeeded = outcomes.Count(o => o.Error is null);
        Assert.Equal(2, succeeded);
        Assert.All(outcomes.Where(o => o.Error is not null), o =>
        {
            var throttled = Assert.IsType<SecretThrottledException>(o.Error);
            Assert.Equal("ThrottlingException", throttled.ErrorCode);
            Assert.True(throttled.IsTransient);
        });

        // Each throttled read made exactly MaxThrottlingRetryAttempts + 1 requests; each successful one made one.
        Assert.Equal(succeeded + ((reads - succeeded) * (maxRetries + 1)), Aws.Requests.Count(GetSecretValue));
        Assert.Equal((reads - succeeded) * (maxRetries + 1), Aws.Requests.Throttled);
    }

    [Fact]
    public async Task Concurrent_reads_under_a_quota_all_succeed_through_retries_as_tokens_come_back()
    {
        const int reads = 6;
        const int maxRetries = 5;
        var names = Enumerable.Range(0, reads).Select(_ => SecretName("refill")).ToList();
        foreach (var name in names)
        {
            Aws.CreateSecret(name, "r-" + name);
        }

        Aws.Faults.SetQuota("sm", 2, GetSecretValue);

        // Every throttled answer lets half a second pass on the emulator's clock: one token back per refusal.
        using var handler = new CountingHandler
        {
            AfterReceive = async response =>
            {
                if (response.StatusCode == HttpStatusCode.BadRequest && (await response.Content.ReadAsStringAsync()).Contains("ThrottlingException", StringComparison.Ordinal))
                {
                    _fixture.Clock.Advance(TimeSpan.FromMilliseconds(500));
                }
            },
        };
        using var http = handler.CreateClient();
        var provider = CreateProvider(o => o.Retry.MaxThrottlingRetryAttempts = maxRetries, http: http);

        var values = await Task.WhenAll(names.Select(name => provider.GetStringAsync(name).AsTask()));

        Assert.Equal(names.Select(n => "r-" + n), values);
        var requests = Aws.Requests.Count(GetSecretValue);
        Assert.Equal(reads, requests - Aws.Requests.Throttled);
        Assert.True(Aws.Requests.Throttled > 0, "The quota never throttled, so nothing was retried.");
        Assert.InRange(requests, reads + 1, reads * (maxRetries + 1));
        Assert.Equal(requests, handler.Sent);
    }

    [Fact]
    public async Task A_transient_failure_in_the_middle_of_a_path_listing_retries_only_that_page()
    {
        var root = ParameterRoot();
        for (var i = 0; i < 25; i++)
        {
            Aws.PutParameter($"{root}k{i:00}", "v" + i, "String");
        }

        using var handler = new CountingHandler
        {
            BeforeSend = attempt =>
            {
                if (attempt == 2)
                {
                    Aws.Faults.FailNext(1, 503, "AmazonSSM.GetParametersByPath"); // the second page's first attempt
                }
            },
        };
        using var http = handler.CreateClient();
        var provider = CreateProvider(http: http);

        var listing = await provider.GetPathAsync(root);

        Assert.Equal(25, listing.Count);
        Assert.Equal(
            [EmulatorOutcome.Ok, EmulatorOutcome.Fault, EmulatorOutcome.Ok, EmulatorOutcome.Ok],
            Aws.Requests.Snapshot().Select(r => r.Outcome));
    }

    [Fact]
    public async Task Not_found_access_denied_decryption_and_validation_errors_are_never_retried()
    {
        var missing = SecretName("missing");
        var denied = SecretName("denied");
        Aws.CreateSecret(denied, "denied-secret-value");
        Aws.DenyAccess(denied);
        var undecryptable = SecretName("kms");
        Aws.CreateSecret(undecryptable, "kms-secret-value");
        Aws.FailDecryption(undecryptable);
        var deleted = SecretName("deleted");
        Aws.CreateSecret(deleted, "deleted-secret-value");
        Aws.DeleteSecret(deleted); // scheduled for deletion: InvalidRequestException
        var parameter = ParameterRoot() + "p";
        Aws.PutParameter(parameter, "parameter-secret-value");
        var deniedParameter = ParameterRoot() + "denied";
        Aws.PutParameter(deniedParameter, "denied-parameter-value");
        Aws.DenyAccess(deniedParameter);
        var undecryptableParameter = ParameterRoot() + "kms";
        Aws.PutParameter(undecryptableParameter, "kms-parameter-value");
        Aws.FailDecryption(undecryptableParameter);
        var logs = new FakeLoggerProvider();
        var provider = CreateProvider(logs: logs);
        string[] values = ["denied-secret-value", "kms-secret-value", "deleted-secret-value", "parameter-secret-value", "denied-parameter-value", "kms-parameter-value"];

        async Task<T> ExpectAsync<T>(string reference, string operation)
            where T : SecretsCacheException
        {
            var before = Aws.Requests.Count(operation);
            var error = await Assert.ThrowsAsync<T>(() => provider.GetAsync(reference).AsTask());
            Assert.Equal(before + 1, Aws.Requests.Count(operation));
            Assert.False(error.IsTransient);
            NoValueLeaks.InException(error, values);
            return error;
        }

        var notFound = await ExpectAsync<SecretNotFoundException>(missing, GetSecretValue);
        var accessDenied = await ExpectAsync<SecretAccessDeniedException>(denied, GetSecretValue);
        var decryption = await ExpectAsync<SecretDecryptionException>(undecryptable, GetSecretValue);
        var invalid = await ExpectAsync<SecretRequestException>(deleted, GetSecretValue);
        Aws.Faults.FailNextWith("ValidationException", 1, GetParameter);
        var validation = await ExpectAsync<SecretRequestException>("ssm:" + parameter, GetParameter);
        var parameterNotFound = await ExpectAsync<SecretNotFoundException>("ssm:" + ParameterRoot() + "none", GetParameter);
        var parameterDenied = await ExpectAsync<SecretAccessDeniedException>("ssm:" + deniedParameter, GetParameter);
        var parameterKms = await ExpectAsync<SecretDecryptionException>("ssm:" + undecryptableParameter, GetParameter);

        Assert.Equal("ResourceNotFoundException", notFound.ErrorCode);
        Assert.Equal("AccessDeniedException", accessDenied.ErrorCode);
        Assert.Contains("lacks secretsmanager:GetSecretValue", accessDenied.Message, StringComparison.Ordinal); // what AWS said, not a guess
        Assert.DoesNotContain("kms:Decrypt", accessDenied.Message, StringComparison.Ordinal);
        Assert.Equal("DecryptionFailure", decryption.ErrorCode);
        Assert.Equal("InvalidRequestException", invalid.ErrorCode);
        Assert.Equal("ValidationException", validation.ErrorCode);
        Assert.Equal("ParameterNotFound", parameterNotFound.ErrorCode);
        Assert.Contains("lacks ssm:GetParameter", parameterDenied.Message, StringComparison.Ordinal);
        Assert.Equal("InvalidKeyId", parameterKms.ErrorCode);
        Assert.Equal(8, Aws.Requests.Total);
        NoValueLeaks.InLogs(logs, values);

        // A validation error is not cached as not-found: once the fault is gone, the key reads again (after its backoff).
        provider.Invalidate("ssm:" + parameter);
        Assert.Equal("parameter-secret-value", await provider.GetStringAsync("ssm:" + parameter));
    }

    [Fact]
    public async Task Connection_resets_are_retried_as_transient()
    {
        var name = SecretName("reset");
        Aws.CreateSecret(name, "after-resets");
        Aws.Faults.ResetNextConnections(2, GetSecretValue);
        var provider = CreateProvider();

        Assert.Equal("after-resets", await provider.GetStringAsync(name));
        Assert.Equal(
            [EmulatorOutcome.ConnectionReset, EmulatorOutcome.ConnectionReset, EmulatorOutcome.Ok],
            Aws.Requests.Snapshot().Select(r => r.Outcome));
    }

    [Fact]
    public async Task A_connection_reset_without_retries_left_surfaces_as_service_unavailable()
    {
        var name = SecretName("reset-once");
        Aws.CreateSecret(name, "unreached");
        Aws.Faults.ResetNextConnections(1, GetSecretValue);
        var provider = CreateProvider(o => o.Retry.MaxRetryAttempts = 0);

        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => provider.GetAsync(name).AsTask());

        Assert.Equal("ConnectionError", error.ErrorCode);
        Assert.True(error.IsTransient);
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task An_attempt_slower_than_AttemptTimeout_is_abandoned_and_retried()
    {
        var name = SecretName("slow");
        Aws.CreateSecret(name, "second-attempt");
        Aws.Faults.Latency = TimeSpan.FromHours(1); // on the frozen clock: the first attempt is never answered

        // The second attempt goes out with the latency gone.
        using var handler = new CountingHandler { BeforeSend = attempt => Aws.Faults.Latency = attempt >= 2 ? TimeSpan.Zero : Aws.Faults.Latency };
        using var http = handler.CreateClient();
        var provider = CreateProvider(o => o.Aws.AttemptTimeout = TimeSpan.FromSeconds(2), http: http); // ample for the answered attempt on a busy machine

        Assert.Equal("second-attempt", await provider.GetStringAsync(name));
        Assert.Equal(2, handler.Sent);
        Assert.Equal([EmulatorOutcome.Ok], Aws.Requests.Snapshot().Select(r => r.Outcome)); // the abandoned attempt was never answered
    }

    [Fact]
    public async Task Attempts_that_all_time_out_surface_as_service_unavailable_after_max_attempts_plus_one()
    {
        var name = SecretName("hung");
        Aws.CreateSecret(name, "never-answered");
        Aws.Faults.Latency = TimeSpan.FromHours(1);
        using var handler = new CountingHandler();
        using var http = handler.CreateClient();
        var provider = CreateProvider(
            o =>
            {
                o.Aws.AttemptTimeout = TimeSpan.FromMilliseconds(200);
                o.Retry.MaxRetryAttempts = 2;
            },
            http: http);

        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => provider.GetAsync(name).AsTask());

        Assert.Equal("AttemptTimeout", error.ErrorCode);
        Assert.Contains("Aws.AttemptTimeout", error.Message, StringComparison.Ordinal);
        Assert.True(error.IsTransient);
        Assert.Equal(3, handler.Sent);
        Assert.Equal(0, Aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task Fail_fast_client_rate_limit_refuses_requests_over_it_before_they_reach_the_emulator()
    {
        var names = CreateSecrets("limited", 5, "l-");

        var provider = CreateProvider(o =>
        {
            o.RateLimits.Behavior = RateLimitBehavior.FailFast;
            o.RateLimits.SecretsManagerRequestsPerSecond = 0.02; // with a minute of burst: one token now, then one more every 50 s
            o.RateLimits.BurstSeconds = 60;
        });

        Assert.Equal("l-" + names[0], await provider.GetStringAsync(names[0]));
        foreach (var name in names.Skip(1))
        {
            var error = await Assert.ThrowsAsync<SecretThrottledException>(() => provider.GetAsync(name).AsTask());
            Assert.Equal("ClientRateLimited", error.ErrorCode);
            NoValueLeaks.InException(error, "l-" + name);
        }

        Assert.Equal(1, Aws.Requests.Total);
        Assert.Equal(0, Aws.Requests.Throttled);
    }

    [Fact]
    public async Task Waiting_for_a_fleet_share_token_does_not_spend_the_retry_budget()
    {
        var name = "/" + SecretName("fleet-share");
        Aws.PutParameter(name, "shared");

        // One Parameter Store request per 100 s: the bucket starts empty and its first token comes at a random moment within
        // those 100 s on the provider's clock. The retry budget is 1 s; only AWS's answering may use it, not the queue.
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var provider = CreateProvider(
            o =>
            {
                o.RateLimits.ParameterStoreRequestsPerSecond = 0.01;
                o.Retry.TotalTimeout = TimeSpan.FromSeconds(1);
                o.FetchTimeout = TimeSpan.FromMinutes(10);
            },
            clock);

        var read = provider.GetAsync("ssm:" + name).AsTask();
        Assert.False(read.IsCompleted);
        Assert.Equal(0, Aws.Requests.Total);

        clock.Advance(TimeSpan.FromSeconds(100));

        Assert.Equal("shared", (await read.WaitAsync(TimeSpan.FromSeconds(30))).GetString());
        Assert.Equal(1, Aws.Requests.Count(GetParameter));
    }

    [Fact]
    public async Task An_outage_opens_the_circuit_so_calls_stop_and_stale_values_are_served_until_a_probe_succeeds()
    {
        var names = CreateSecrets("breaker", 30, "v-");

        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var logs = new FakeLoggerProvider();
        var provider = CreateProvider(
            o =>
            {
                o.Retry.MaxRetryAttempts = 0; // one request per fetch, so the counts below are exact
                o.Retry.BreakDuration = TimeSpan.FromSeconds(5);
                o.DefaultTtl = TimeSpan.FromMinutes(1);
                o.TtlJitter = 0;
                o.FailureBackoff = TimeSpan.FromSeconds(1);
                o.MaxFailureBackoff = TimeSpan.FromSeconds(2);
            },
            clock,
            logs: logs);
        foreach (var name in names)
        {
            await provider.GetAsync(name);
        }

        Aws.Faults.FailNext(int.MaxValue, 503, GetSecretValue);
        clock.Advance(TimeSpan.FromMinutes(1)); // every value expired; all are within MaxStaleness
        foreach (var name in names)
        {
            Assert.Equal("v-" + name, await provider.GetStringAsync(name)); // stale, never an error
        }

        // Ten 503s opened the circuit; the later fetches failed at once without a request. Once the first 503 is known,
        // stale readers no longer wait for their key's fetch, so a few fetches overlap the breaker's tenth failure, and the
        // circuit opens in the background (bounded real-time wait for the log that says so; the fake clock never moves).
        Assert.True(
            SpinWait.SpinUntil(() => logs.Entries.Any(e => e.StartsWith("Warning: AWS Secrets Manager in us-east-1 failed most recent calls", StringComparison.Ordinal)), TimeSpan.FromSeconds(30)),
            "the circuit never opened");
        Assert.True(SpinWait.SpinUntil(() => provider.GetHealth().Failing == 30, TimeSpan.FromSeconds(30)), "the background fetches never settled");
        var open = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => provider.RefreshAsync(names[0]).AsTask());
        Assert.Equal("CircuitOpen", open.ErrorCode);
        Assert.DoesNotContain("v-", open.Message, StringComparison.Ordinal);
        var sent = Aws.Requests.Total;
        Assert.InRange(sent - 30, RetryPipelineFactoryMinimumThroughput, 30); // at most one request per key: none is retried
        Assert.Equal(sent - 30, Aws.Requests.Snapshot().Count(r => r.Outcome == EmulatorOutcome.Fault));

        // The outage ends; after the break (and the keys' failure backoff) one probe closes the circuit and reads resume.
        Aws.Faults.ClearFailures();
        clock.Advance(TimeSpan.FromSeconds(5));
        Aws.PutSecretValue(names[1], "rotated");
        Assert.Equal("rotated", (await provider.RefreshAsync(names[1])).GetString()); // a plain read of a key whose last fetch failed is answered stale at once
        Assert.Equal("v-" + names[2], (await provider.RefreshAsync(names[2])).GetString());
        Assert.Equal(sent + 2, Aws.Requests.Total);

        // Operators see the circuit open and close, named by service and region, never with a value.
        Assert.Single(logs.Entries, e => e.StartsWith("Warning: AWS Secrets Manager in us-east-1 failed most recent calls: calls stop for 5 s", StringComparison.Ordinal));
        Assert.Single(logs.Entries, e => e.StartsWith("Information: AWS Secrets Manager in us-east-1 answers again", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Contains("v-", StringComparison.Ordinal) || e.Contains("rotated", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_per_service_breaker_override_opens_Parameter_Store_s_circuit_after_three_failures_and_leaves_Secrets_Manager_s_at_ten()
    {
        var parameters = Enumerable.Range(0, 5).Select(i => $"{ParameterRoot()}p{i}").ToList();
        parameters.ForEach(p => Aws.PutParameter(p, "p", "String"));
        var secrets = CreateSecrets("per-service", 5, "s-");
        Aws.Faults.FailNext(int.MaxValue, 503, GetParameter);
        Aws.Faults.FailNext(int.MaxValue, 503, GetSecretValue);
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow()); // the breaker's sampling window never moves
        var provider = CreateProvider(
            o =>
            {
                o.Retry.MaxRetryAttempts = 0; // one request per fetch, so the counts below are exact
                o.Retry.ParameterStore.BreakerMinimumThroughput = 3;
                o.RateLimits.ParameterStoreRequestsPerSecond = 0; // its bucket of 4 would never refill on the frozen clock
            },
            clock);

        var parameterErrors = new List<string?>();
        foreach (var parameter in parameters)
        {
            parameterErrors.Add((await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => provider.GetAsync("ssm:" + parameter).AsTask())).ErrorCode);
        }

        var secretErrors = new List<string?>();
        foreach (var secret in secrets)
        {
            secretErrors.Add((await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => provider.GetAsync(secret).AsTask())).ErrorCode);
        }

        // Parameter Store: three 503s open its circuit; the next two fetches are refused without a request.
        Assert.Equal(3, Aws.Requests.Count(GetParameter));
        Assert.Equal(["CircuitOpen", "CircuitOpen"], parameterErrors.Skip(3));
        Assert.DoesNotContain("CircuitOpen", parameterErrors.Take(3));

        // Secrets Manager keeps the shared minimum of ten: five 503s, every one sent, its circuit still closed.
        Assert.Equal(5, Aws.Requests.Count(GetSecretValue));
        Assert.DoesNotContain("CircuitOpen", secretErrors);
    }

    private const int RetryPipelineFactoryMinimumThroughput = 10;
}

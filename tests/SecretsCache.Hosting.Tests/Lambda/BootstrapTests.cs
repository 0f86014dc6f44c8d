using System.Text.Json;
using LambdaFunction;
using LambdaFunction.Runtime;
using SecretsCache.Testing;
using SecretsCache.TestSupport;

namespace SecretsCache.Hosting.Tests.Lambda;

/// <summary>
/// The sample's published bootstrap against a Runtime API stand-in and the emulator as AWS: what Lambda would see of it.
/// </summary>
public sealed class BootstrapTests : IAsyncLifetime
{
    private const string ErrorContentType = "application/vnd.aws.lambda.error+json";

    private AwsEmulator _aws = null!;

    public async Task InitializeAsync() => _aws = await AwsEmulator.StartAsync();

    public async Task DisposeAsync() => await _aws.DisposeAsync();

    [Fact]
    public async Task Init_warms_up_before_the_first_next_and_invocations_then_call_AWS_no_more()
    {
        var references = FunctionData.Seed(_aws, "fn");
        var events = Enumerable.Range(0, 3)
            .Select(i => new StandInEvent(Guid.NewGuid().ToString(), $$"""{"references":["fn/secret-{{i:00}}","ssm:/fn/param-{{i}}"]}""", TimeSpan.FromSeconds(30)))
            .ToList();
        IReadOnlyList<EmulatorRequest>? atFirstNext = null;
        await using var runtimeApi = await RuntimeApiStandIn.StartAsync(events, onFirstNext: () => atFirstNext = _aws.Requests.Snapshot());

        var run = await PublishedBootstrap.RunAsync(runtimeApi, _aws, references);

        var transcript = Transcript(run, runtimeApi);
        Assert.True(run.ExitCode == LambdaRuntime.EndedByRuntimeApi, transcript);
        Assert.Empty(runtimeApi.Violations);
        Assert.NotNull(atFirstNext);
        Assert.Equal(3, atFirstNext.Count(r => r.Operation == "secretsmanager.BatchGetSecretValue" && r.Outcome == EmulatorOutcome.Ok));
        Assert.Equal(1, atFirstNext.Count(r => r.Operation == "AmazonSSM.GetParameters" && r.Outcome == EmulatorOutcome.Ok));
        Assert.Equal(4, atFirstNext.Count);
        Assert.Equal(4, _aws.Requests.Total); // the three invocations read memory
        Assert.Equal(4, runtimeApi.NextRequests); // three events, then the refusal that ends the environment

        var results = runtimeApi.Results;
        Assert.Equal(events.Select(e => e.RequestId), results.Select(r => r.RequestId));
        for (var i = 0; i < 3; i++)
        {
            Assert.False(results[i].IsError, transcript);
            var response = JsonSerializer.Deserialize(results[i].Body, FunctionJson.Default.FunctionResponse)!;
            Assert.Equal($$"""{"user":"u{{i}}","password":"p-{{i}}"}""".Length, response.Secrets[$"fn/secret-{i:00}"].Length);
            Assert.Equal($"value-{i}".Length, response.Secrets[$"ssm:/fn/param-{i}"].Length);
            Assert.DoesNotContain($"p-{i}", results[i].Body);
        }

        Assert.Contains("init: warmed up 50 reference(s)", run.StandardOutput);
    }

    [Fact]
    public async Task A_required_secret_that_is_missing_fails_init_through_init_error_and_no_event_is_taken()
    {
        _aws.CreateSecret("fn/present", "present-value");
        await using var runtimeApi = await RuntimeApiStandIn.StartAsync([new StandInEvent("never-handed-out", "{}", TimeSpan.FromSeconds(30))]);

        var run = await PublishedBootstrap.RunAsync(runtimeApi, _aws, ["fn/present", "fn/absent"]);

        var transcript = Transcript(run, runtimeApi);
        Assert.True(run.ExitCode == LambdaRuntime.InitFailed, transcript);
        Assert.Empty(runtimeApi.Violations);
        Assert.Equal(0, runtimeApi.NextRequests);
        var initError = Assert.Single(runtimeApi.Results);
        Assert.Null(initError.RequestId);
        Assert.True(initError.IsError);
        Assert.Equal("Function.WarmUpFailedException", initError.ErrorType);
        Assert.Equal(ErrorContentType, initError.ContentType);
        var report = ReadReport(initError.Body);
        Assert.Equal("WarmUpFailedException", report.ErrorType);
        Assert.Equal("1 of 2 warm-up references could not be loaded: fn/absent (ResourceNotFoundException).", report.ErrorMessage);
        Assert.DoesNotContain("present-value", initError.Body + run.StandardOutput + run.StandardError);
    }

    [Fact]
    public async Task A_failing_invocation_is_reported_through_its_own_error_and_the_environment_serves_the_next()
    {
        _aws.CreateSecret("fn/present", "present-value");
        var failing = new StandInEvent(Guid.NewGuid().ToString(), """{"references":["fn/absent"]}""", TimeSpan.FromSeconds(30));
        var next = new StandInEvent(Guid.NewGuid().ToString(), """{"references":["fn/present"]}""", TimeSpan.FromSeconds(30));
        await using var runtimeApi = await RuntimeApiStandIn.StartAsync([failing, next]);

        var run = await PublishedBootstrap.RunAsync(runtimeApi, _aws, ["fn/present"]);

        var transcript = Transcript(run, runtimeApi);
        Assert.True(run.ExitCode == LambdaRuntime.EndedByRuntimeApi, transcript);
        Assert.Empty(runtimeApi.Violations);
        Assert.Collection(
            runtimeApi.Results,
            error =>
            {
                Assert.Equal(failing.RequestId, error.RequestId);
                Assert.True(error.IsError);
                Assert.Equal("Function.SecretNotFoundException", error.ErrorType);
                Assert.Equal(ErrorContentType, error.ContentType);
                var report = ReadReport(error.Body);
                Assert.Equal("SecretNotFoundException", report.ErrorType);
                Assert.Contains("fn/absent", report.ErrorMessage, StringComparison.Ordinal);
            },
            response =>
            {
                Assert.Equal(next.RequestId, response.RequestId);
                Assert.False(response.IsError, transcript);
                Assert.Equal("present-value".Length, JsonSerializer.Deserialize(response.Body, FunctionJson.Default.FunctionResponse)!.Secrets["fn/present"].Length);
            });
    }

    [Fact]
    public async Task An_invocation_still_waiting_on_AWS_at_its_deadline_is_reported_as_DeadlineExceeded_and_the_next_is_served()
    {
        _aws.CreateSecret("fn/slow", "slow-value");
        _aws.Faults.Latency = TimeSpan.FromSeconds(40); // far past the deadline below, and within the child's timeout
        var slow = new StandInEvent(Guid.NewGuid().ToString(), """{"references":["fn/slow"]}""", TimeSpan.FromSeconds(1));
        var next = new StandInEvent(Guid.NewGuid().ToString(), """{"references":[]}""", TimeSpan.FromSeconds(30));
        await using var runtimeApi = await RuntimeApiStandIn.StartAsync([slow, next]);

        var run = await PublishedBootstrap.RunAsync(runtimeApi, _aws, []);

        var transcript = Transcript(run, runtimeApi);
        Assert.True(run.ExitCode == LambdaRuntime.EndedByRuntimeApi, transcript);
        Assert.Empty(runtimeApi.Violations);
        Assert.Collection(
            runtimeApi.Results,
            error =>
            {
                Assert.Equal(slow.RequestId, error.RequestId);
                Assert.Equal("Function.DeadlineExceeded", error.ErrorType);
                Assert.Equal("DeadlineExceeded", ReadReport(error.Body).ErrorType);
            },
            response =>
            {
                Assert.Equal(next.RequestId, response.RequestId);
                Assert.False(response.IsError, transcript);
            });
    }

    private static ErrorReport ReadReport(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return new ErrorReport(
            root.GetProperty("errorMessage").GetString()!,
            root.GetProperty("errorType").GetString()!,
            [.. root.GetProperty("stackTrace").EnumerateArray().Select(e => e.GetString()!)]);
    }

    private static string Transcript(ChildProcessResult run, RuntimeApiStandIn runtimeApi) =>
        $"bootstrap: {PublishedBootstrap.NativePath ?? "JIT build"}; exit code {run.ExitCode}\n--- stdout ---\n{run.StandardOutput}--- stderr ---\n{run.StandardError}" +
        $"--- Runtime API ---\n{string.Join('\n', runtimeApi.Results.Select(r => $"{r.RequestId ?? "init"} {(r.IsError ? r.ErrorType : "response")}: {r.Body}"))}\n{string.Join('\n', runtimeApi.Violations)}";
}

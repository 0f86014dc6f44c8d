// Runs the function as Lambda would, on this machine: the loopback emulator as AWS (50 references seeded), a Runtime API
// stand-in handing out N events, and the bootstrap (in-process by default; --exe runs a published one, for example the
// Native AOT binary). Prints Init Duration (start to the first /next), each response or error, and the AWS calls made.
//   dotnet run --project samples/LambdaFunction/LocalRunner -- --invocations 5
//   dotnet run --project samples/LambdaFunction/LocalRunner -- --invocations 5 --exe samples/LambdaFunction/bin/Release/net10.0/linux-x64/publish/bootstrap
using System.Diagnostics;
using System.Globalization;
using LambdaFunction;
using SecretsCache.Testing;

var invocations = 3;
string? exe = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--invocations" when i + 1 < args.Length: invocations = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--exe" when i + 1 < args.Length: exe = args[++i]; break;
        default:
            Console.Error.WriteLine("Usage: LocalRunner [--invocations N] [--exe PATH-TO-BOOTSTRAP]");
            return 2;
    }
}

await using var aws = await AwsEmulator.StartAsync();
var references = FunctionData.Seed(aws, "fn");
var request = $$"""{"references":["{{references[0]}}","{{references[^1]}}"]}""";
var clock = Stopwatch.StartNew();
var initDuration = TimeSpan.Zero;
var awsCallsInInit = 0;
await using var runtimeApi = await RuntimeApiStandIn.StartAsync(
    Enumerable.Range(1, invocations).Select(i => new StandInEvent($"local-{i}", request, TimeSpan.FromSeconds(30))),
    onFirstNext: () => (initDuration, awsCallsInInit) = (clock.Elapsed, aws.Requests.Total));
var environment = new Dictionary<string, string>
{
    ["AWS_LAMBDA_RUNTIME_API"] = runtimeApi.HostAndPort,
    [FunctionSettings.ServiceUrlVariable] = aws.Endpoint.ToString(),
    [FunctionSettings.WarmUpVariable] = string.Join(',', references),
    ["AWS_REGION"] = aws.Region,
    ["AWS_ACCESS_KEY_ID"] = aws.AccessKeyId,
    ["AWS_SECRET_ACCESS_KEY"] = aws.SecretAccessKey,
    ["AWS_EC2_METADATA_DISABLED"] = "true",
};
Console.WriteLine($"Emulator on {aws.Endpoint}, Runtime API stand-in on {runtimeApi.HostAndPort}; warm-up list: {references.Count} references (45 secrets, 5 parameters).");

int exitCode;
using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
{
    if (exe is null)
    {
        foreach (var (name, value) in environment)
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        clock.Restart();
        exitCode = await Bootstrap.RunAsync(runtimeApi.HostAndPort, Console.Out, timeout.Token);
    }
    else
    {
        var start = new ProcessStartInfo(exe) { UseShellExecute = false };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        clock.Restart();
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {exe}.");
        try
        {
            await child.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            child.Kill(entireProcessTree: true);
            throw new TimeoutException($"{exe} did not exit within 2 minutes and was killed.");
        }

        exitCode = child.ExitCode;
    }
}

Console.WriteLine($"Init Duration: {initDuration.TotalMilliseconds:F1} ms (process start to the first /next), {awsCallsInInit} AWS call(s) during init.");
foreach (var result in runtimeApi.Results)
{
    Console.WriteLine($"{(result.RequestId is null ? "init error" : result.RequestId)} {(result.IsError ? $"error {result.ErrorType}" : "response")}: {result.Body}");
}

foreach (var violation in runtimeApi.Violations)
{
    Console.WriteLine($"protocol violation: {violation}");
}

Console.WriteLine(
    $"AWS calls: {aws.Requests.Count("secretsmanager.BatchGetSecretValue")} BatchGetSecretValue, {aws.Requests.Count("AmazonSSM.GetParameters")} GetParameters, " +
    $"{aws.Requests.Count("secretsmanager.GetSecretValue")} GetSecretValue, {aws.Requests.Count("AmazonSSM.GetParameter")} GetParameter ({aws.Requests.Total} in all, {aws.Requests.Total - awsCallsInInit} after init).");
return exitCode;

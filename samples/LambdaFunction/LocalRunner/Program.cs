// Simulates a Lambda execution environment on the loopback emulator: init (provider + batched warm-up of 50 references),
// then N invocations. In-process by default; --exe runs a published bootstrap (for example the Native AOT one) instead.
//   dotnet run --project samples/LambdaFunction/LocalRunner -- --invocations 5
//   dotnet run --project samples/LambdaFunction/LocalRunner -- --invocations 5 --exe samples/LambdaFunction/bin/Release/net8.0/linux-x64/publish/bootstrap
using System.Diagnostics;
using System.Text;
using LambdaFunction;
using SecretsCache.Testing;

var invocations = 3;
string? exe = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--invocations" when i + 1 < args.Length: invocations = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--exe" when i + 1 < args.Length: exe = args[++i]; break;
        default:
            Console.Error.WriteLine("Usage: LocalRunner [--invocations N] [--exe PATH-TO-BOOTSTRAP]");
            return 2;
    }
}

await using var aws = await AwsEmulator.StartAsync();
var references = FunctionData.Seed(aws, "fn");
var environment = new Dictionary<string, string>
{
    [FunctionSettings.ServiceUrlVariable] = aws.Endpoint.ToString(),
    [FunctionSettings.WarmUpVariable] = string.Join(',', references),
    ["AWS_REGION"] = aws.Region,
    ["AWS_ACCESS_KEY_ID"] = aws.AccessKeyId,
    ["AWS_SECRET_ACCESS_KEY"] = aws.SecretAccessKey,
    ["AWS_EC2_METADATA_DISABLED"] = "true",
};
Console.WriteLine($"Emulator on {aws.Endpoint}; warm-up list: {references.Count} references (45 secrets, 5 parameters).");

int exitCode;
if (exe is null)
{
    foreach (var (name, value) in environment)
    {
        Environment.SetEnvironmentVariable(name, value);
    }

    var function = new SecretsFunction(); // the per-environment init starts here, as in the managed runtime
    var report = await function.InitReportAsync();
    Console.WriteLine($"init: warmed up {report.Loaded} reference(s) in {report.WarmUpMs:F1} ms; failures: {report.Failures.Length}");
    for (var i = 1; i <= invocations; i++)
    {
        var json = $$"""{"references":["{{references[0]}}","{{references[^1]}}"]}""";
        using var output = await function.HandleAsync(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        Console.WriteLine($"invocation {i}: {await new StreamReader(output).ReadToEndAsync()}");
    }

    exitCode = report.Failures.Length == 0 ? 0 : 1;
}
else
{
    var start = new ProcessStartInfo(exe, ["--invocations", invocations.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
    foreach (var (name, value) in environment)
    {
        start.Environment[name] = value;
    }

    using var child = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {exe}.");
    await child.WaitForExitAsync();
    exitCode = child.ExitCode;
}

Console.WriteLine(
    $"AWS calls: {aws.Requests.Count("secretsmanager.BatchGetSecretValue")} BatchGetSecretValue, {aws.Requests.Count("AmazonSSM.GetParameters")} GetParameters, " +
    $"{aws.Requests.Count("secretsmanager.GetSecretValue")} GetSecretValue, {aws.Requests.Count("AmazonSSM.GetParameter")} GetParameter ({aws.Requests.Total} in all).");
return exitCode;

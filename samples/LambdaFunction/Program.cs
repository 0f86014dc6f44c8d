// The local runner of the function: init (provider + warm-up), then N invocations, as a Lambda environment would run them.
// Configuration comes from the environment (see FunctionSettings); samples/LambdaFunction/LocalRunner starts an emulator and
// sets it for you.
//   bootstrap --invocations 3 [--request '{"references":["app/db"]}']
//   bootstrap --cold-start app/db      (benchmark mode: prints FIRST_VALUE once the first value is in hand, then exits)
using System.Text;
using System.Text.Json;
using LambdaFunction;

var invocations = 3;
string? request = null;
string? coldStart = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--invocations" when i + 1 < args.Length: invocations = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--request" when i + 1 < args.Length: request = args[++i]; break;
        case "--cold-start" when i + 1 < args.Length: coldStart = args[++i]; break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: bootstrap [--invocations N] [--request JSON] [--cold-start REFERENCE]");
            return 2;
    }
}

var function = new SecretsFunction();
if (coldStart is not null)
{
    using var first = await function.HandleAsync(Payload($$"""{"references":["{{coldStart}}"]}"""));
    var report = await function.InitReportAsync();
    Console.WriteLine($"FIRST_VALUE warmup_ms={report.WarmUpMs:F1} loaded={report.Loaded} failed={report.Failures.Length}");
    return report.Failures.Length == 0 ? 0 : 1;
}

var initReport = await function.InitReportAsync();
Console.WriteLine($"init: warmed up {initReport.Loaded} reference(s) in {initReport.WarmUpMs:F1} ms");
foreach (var failure in initReport.Failures)
{
    Console.WriteLine($"init: could not load {failure}");
}

request ??= JsonSerializer.Serialize(new FunctionRequest { References = [.. FunctionSettings.WarmUpReferences().Take(3)] }, FunctionJson.Default.FunctionRequest);
for (var i = 1; i <= invocations; i++)
{
    using var output = await function.HandleAsync(Payload(request));
    using var reader = new StreamReader(output, Encoding.UTF8);
    Console.WriteLine($"invocation {i}: {await reader.ReadToEndAsync()}");
}

return initReport.Failures.Length == 0 ? 0 : 1;

static MemoryStream Payload(string json) => new(Encoding.UTF8.GetBytes(json));

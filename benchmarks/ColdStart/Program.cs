// Cold start: process start -> first secret value, for JIT, ReadyToRun and Native AOT builds of samples/LambdaFunction,
// against a loopback emulator started here (endpoint and credentials go to each child through environment variables),
// with hello-world builds of each kind as the floor. Bounded: a fixed number of runs, each with a timeout.
//   benchmarks/ColdStart/run.sh            (publishes everything, then runs this)
//   ColdStart --runs 15 --out results.md --case "JIT (net10.0)=path/bootstrap" --floor "JIT (net10.0)=path/Hello" ...
using System.Diagnostics;
using System.Globalization;
using System.Text;
using SecretsCache.Testing;

var runs = 15;
var output = "cold-start.md";
var cases = new List<(string Kind, string Path)>();
var floors = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--runs" when i + 1 < args.Length: runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--out" when i + 1 < args.Length: output = args[++i]; break;
        case "--case" when i + 1 < args.Length: cases.Add(Split(args[++i])); break;
        case "--floor" when i + 1 < args.Length: var (kind, path) = Split(args[++i]); floors[kind] = path; break;
        default:
            Console.Error.WriteLine("Usage: ColdStart [--runs N] [--out FILE] --case KIND=PATH... [--floor KIND=PATH...]");
            return 2;
    }
}

if (cases.Count == 0)
{
    Console.Error.WriteLine("No --case given; run benchmarks/ColdStart/run.sh.");
    return 2;
}

await using var aws = await AwsEmulator.StartAsync();
var warmUp = FunctionData.Seed(aws, "bench");

var baseEnvironment = new Dictionary<string, string>
{
    ["SECRETSCACHE_SERVICE_URL"] = aws.Endpoint.ToString(),
    ["AWS_REGION"] = aws.Region,
    ["AWS_ACCESS_KEY_ID"] = aws.AccessKeyId,
    ["AWS_SECRET_ACCESS_KEY"] = aws.SecretAccessKey,
    ["AWS_EC2_METADATA_DISABLED"] = "true",
    ["DOTNET_TieredPGO"] = "1",
};

var rows = new List<string>();
foreach (var (kind, path) in cases)
{
    if (floors.TryGetValue(kind, out var floorPath))
    {
        var floor = await MeasureAsync(floorPath, [], baseEnvironment);
        rows.Add(Row(kind, "hello world (floor)", floor.Start, null));
    }

    var first = await MeasureAsync(path, ["--cold-start", "bench/secret-00"], With(baseEnvironment, "SECRETSCACHE_WARMUP", ""));
    rows.Add(Row(kind, "first secret value (1 GetSecretValue)", first.Start, null));
    var warmed = await MeasureAsync(path, ["--cold-start", "bench/secret-00"], With(baseEnvironment, "SECRETSCACHE_WARMUP", string.Join(',', warmUp)));
    rows.Add(Row(kind, "warm-up of 50 references, then first value", warmed.Start, warmed.WarmUp));
}

var cpu = File.Exists("/proc/cpuinfo")
    ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
    : null;
var table = new StringBuilder()
    .AppendLine(CultureInfo.InvariantCulture, $"Cold start, process start to first secret value ({runs} runs each after one discarded run; loopback emulator; {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; {Environment.ProcessorCount} cores, {cpu ?? "unknown CPU"}).")
    .AppendLine()
    .AppendLine("| build | measured | median ms | p90 ms | warm-up alone, median ms |")
    .AppendLine("|---|---|---:|---:|---:|");
rows.ForEach(r => table.AppendLine(r));
Console.Write(table);
await File.WriteAllTextAsync(output, table.ToString());
Console.WriteLine($"Written to {output}. Emulator served {aws.Requests.Total} requests ({aws.Requests.Count("secretsmanager.BatchGetSecretValue")} BatchGetSecretValue).");
return 0;

async Task<(List<double> Start, List<double> WarmUp)> MeasureAsync(string path, string[] arguments, Dictionary<string, string> environment)
{
    var start = new List<double>();
    var warm = new List<double>();
    for (var run = 0; run <= runs; run++)
    {
        var info = new ProcessStartInfo(path, arguments) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {path}.");
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync(timeout.Token)) is not null && !line.StartsWith("FIRST_VALUE", StringComparison.Ordinal))
        {
        }

        var elapsed = clock.Elapsed.TotalMilliseconds;
        await process.WaitForExitAsync(timeout.Token);
        if (line is null || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{path} {string.Join(' ', arguments)} exited with {process.ExitCode} before a first value.");
        }

        if (run == 0)
        {
            continue; // the first run warms the file cache
        }

        start.Add(elapsed);
        var marker = line.Split(' ').FirstOrDefault(p => p.StartsWith("warmup_ms=", StringComparison.Ordinal));
        if (marker is not null)
        {
            warm.Add(double.Parse(marker["warmup_ms=".Length..], CultureInfo.InvariantCulture));
        }
    }

    return (start, warm);
}

string Row(string kind, string what, List<double> start, List<double>? warm) =>
    $"| {kind} | {what} | {Percentile(start, 0.5):F1} | {Percentile(start, 0.9):F1} | {(warm is { Count: > 0 } ? Percentile(warm, 0.5).ToString("F1", CultureInfo.InvariantCulture) : "")} |";

static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToArray();
    var rank = p * (sorted.Length - 1);
    var low = (int)Math.Floor(rank);
    var high = (int)Math.Ceiling(rank);
    return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
}

static (string Kind, string Path) Split(string text)
{
    var at = text.LastIndexOf('=');
    return at > 0 ? (text[..at], text[(at + 1)..]) : throw new ArgumentException($"Expected KIND=PATH, got '{text}'.");
}

static Dictionary<string, string> With(Dictionary<string, string> environment, string name, string value) =>
    new(environment, StringComparer.Ordinal) { [name] = value };

// Cold start as Lambda reports it, for JIT, ReadyToRun and Native AOT builds of samples/LambdaFunction: each run starts the
// bootstrap against a Runtime API stand-in (one event) and a loopback emulator started here, and times what Lambda's REPORT
// line says for a cold invocation: Init Duration (process start to the first GET /next) and the first invocation's Duration
// (from the event handed out on /next to its response posted), and the first response from process start. Hello-world
// builds of each kind that only send a first /next are the floor. Bounded: a fixed number of runs, each with a timeout.
//   benchmarks/ColdStart/run.sh            (publishes everything, then runs this)
//   ColdStart --runs 15 --out results.md --case "JIT (net10.0)=path/bootstrap" --floor "JIT (net10.0)=path/Hello" ...
// --probe KIND=PATH runs benchmarks/ColdStart/Probe (Main to the first value phase by phase, RSS at the first value) for a
// build kind, beside that kind's floor; a KIND with an environment suffix ("JIT (net10.0), TieredPGO off|DOTNET_TieredPGO=0")
// runs the probe with those variables, the same build measured with and without a setting a user can make.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using SecretsCache.Testing;

var runs = 15;
var output = "cold-start.md";
var cases = new List<(string Kind, string Path)>();
var probes = new List<(string Kind, string Path)>();
var floors = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--runs" when i + 1 < args.Length: runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--out" when i + 1 < args.Length: output = args[++i]; break;
        case "--case" when i + 1 < args.Length: cases.Add(Split(args[++i])); break;
        case "--floor" when i + 1 < args.Length: var (kind, path) = Split(args[++i]); floors[kind] = path; break;
        case "--probe" when i + 1 < args.Length: probes.Add(Split(args[++i])); break;
        default:
            Console.Error.WriteLine("Usage: ColdStart [--runs N] [--out FILE] --case KIND=PATH... [--floor KIND=PATH...]");
            return 2;
    }
}

if (cases.Count == 0 && probes.Count == 0)
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
var probeRows = new List<string>();
var floorMedians = new Dictionary<string, double>(StringComparer.Ordinal);
foreach (var (kindAndEnv, path) in probes)
{
    var (kind, probeEnvironment) = ProbeKind(kindAndEnv);
    var floorKind = floors.Keys.FirstOrDefault(k => kind.StartsWith(k, StringComparison.Ordinal));
    if (floorKind is not null && !floorMedians.ContainsKey(floorKind))
    {
        floorMedians[floorKind] = Percentile((await MeasureAsync(floors[floorKind], baseEnvironment, expectResponse: false)).Init, 0.5);
    }

    var environment = new Dictionary<string, string>(baseEnvironment, StringComparer.Ordinal);
    foreach (var (name, value) in probeEnvironment)
    {
        environment[name] = value;
    }

    var plain = await ProbeAsync(path, environment, "plain");
    var phased = probeEnvironment.Count == 0 ? await ProbeAsync(path, environment, "phases") : null; // a variant: the first value only
    probeRows.Add(ProbeRow(kind, floorKind is null ? null : floorMedians[floorKind], plain, phased));
}

foreach (var (kind, path) in cases)
{
    if (floors.TryGetValue(kind, out var floorPath))
    {
        var floor = await MeasureAsync(floorPath, baseEnvironment, expectResponse: false);
        rows.Add(Row(kind, "hello world: start, first /next (floor)", floor));
    }

    var cold = await MeasureAsync(path, With(baseEnvironment, "SECRETSCACHE_WARMUP", ""), expectResponse: true);
    rows.Add(Row(kind, "no warm-up; the invocation reads 1 secret (1 GetSecretValue)", cold));
    var warmed = await MeasureAsync(path, With(baseEnvironment, "SECRETSCACHE_WARMUP", string.Join(',', warmUp)), expectResponse: true);
    rows.Add(Row(kind, "warm-up of 50 references at init; the invocation reads memory", warmed));
}

var cpu = File.Exists("/proc/cpuinfo")
    ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
    : null;
var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";
var table = new StringBuilder()
    .AppendLine(CultureInfo.InvariantCulture, $"As Lambda's REPORT line for a cold start: Init Duration (process start to the first GET /next) and the first invocation's Duration (event handed out on /next to its response posted); and the first response from process start. {runs} runs each after one discarded run; loopback emulator and Runtime API stand-in; {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; {Environment.ProcessorCount} cores, {cpu ?? "unknown CPU"}; load average {load} at the end.")
    .AppendLine()
    .AppendLine("| build | init | Init Duration, median ms | p90 ms | Duration (first invocation), median ms | p90 ms | first response from start, median ms | warm-up alone, median ms |")
    .AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
rows.ForEach(r => table.AppendLine(r));
if (probeRows.Count > 0)
{
    table.AppendLine()
        .AppendLine(CultureInfo.InvariantCulture, $"Process start to the first secret value (benchmarks/ColdStart/Probe, plain: a provider and one GetAsync), median of {runs} runs, beside the floor (hello world to its first /next); then, from a second set of runs, Main to the first value phase by phase (each phase does first what the first read would, so its time is that first's cost; medians of the time each phase adds); RSS at the first value.")
        .AppendLine()
        .AppendLine("| build | floor ms | first value ms | × floor | p90 ms | before Main ms | RSS MB | phases, ms each (Main to the first value) |")
        .AppendLine("|---|---:|---:|---:|---:|---:|---:|---|");
    probeRows.ForEach(r => table.AppendLine(r));
}

Console.Write(table);
await File.WriteAllTextAsync(output, table.ToString());
Console.WriteLine($"Written to {output}. Emulator served {aws.Requests.Total} requests ({aws.Requests.Count("secretsmanager.BatchGetSecretValue")} BatchGetSecretValue).");
return 0;

async Task<Measured> MeasureAsync(string path, Dictionary<string, string> environment, bool expectResponse)
{
    var measured = new Measured();
    for (var run = 0; run <= runs; run++)
    {
        var clock = new Stopwatch();
        double? init = null, response = null, handedOut = null;
        var events = new[] { new StandInEvent($"bench-{run}", """{"references":["bench/secret-00"]}""", TimeSpan.FromSeconds(30)) };
        await using var runtimeApi = await RuntimeApiStandIn.StartAsync(
            events,
            onFirstNext: () => init = clock.Elapsed.TotalMilliseconds,
            onResult: result => response ??= result.IsError ? null : clock.Elapsed.TotalMilliseconds,
            onHandedOut: _ => handedOut ??= clock.Elapsed.TotalMilliseconds);
        var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        info.Environment["AWS_LAMBDA_RUNTIME_API"] = runtimeApi.HostAndPort;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        clock.Start();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {path}.");
        var stdout = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        if (init is null || (expectResponse && response is null))
        {
            throw new InvalidOperationException($"{path} exited with {process.ExitCode} without {(init is null ? "a /next" : "a response")}:\n{stdout}");
        }

        if (run == 0)
        {
            continue; // the first run warms the file cache
        }

        measured.Init.Add(init.Value);
        if (response is { } first)
        {
            measured.FirstResponse.Add(first);
            measured.Duration.Add(first - handedOut!.Value);
        }

        // The bootstrap logs "init: warmed up N reference(s) in X ms".
        if (stdout.Split('\n').FirstOrDefault(l => l.StartsWith("init: warmed up ", StringComparison.Ordinal)) is { } line && line.Split(' ') is [.., var ms, "ms"]
            && double.TryParse(ms, CultureInfo.InvariantCulture, out var warmUpMs) && !line.StartsWith("init: warmed up 0 ", StringComparison.Ordinal))
        {
            measured.WarmUp.Add(warmUpMs);
        }
    }

    return measured;
}

async Task<Probed> ProbeAsync(string path, Dictionary<string, string> environment, string mode)
{
    var probed = new Probed();
    for (var run = 0; run <= runs; run++)
    {
        var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(mode);
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {path}.");
        double? valueSeen = null, valueInMain = null, rss = null;
        var phases = new List<(string Name, double At)>();
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            var parts = line.Split(' ');
            switch (parts[0])
            {
                case "value":
                    valueSeen = clock.Elapsed.TotalMilliseconds;
                    valueInMain = double.Parse(parts[1], CultureInfo.InvariantCulture);
                    break;
                case "rss": rss = double.Parse(parts[1], CultureInfo.InvariantCulture); break;
                case "phase": phases.Add((parts[1].Replace('_', ' '), double.Parse(parts[2], CultureInfo.InvariantCulture))); break;
            }
        }

        await process.WaitForExitAsync(timeout.Token);
        if (valueSeen is null || valueInMain is null || rss is null)
        {
            throw new InvalidOperationException($"{path} {mode} exited with {process.ExitCode} without a value.");
        }

        if (run == 0)
        {
            continue;
        }

        probed.FirstValue.Add(valueSeen.Value);
        probed.BeforeMain.Add(valueSeen.Value - valueInMain.Value);
        probed.Rss.Add(rss.Value);
        var previous = 0.0;
        foreach (var (name, at) in phases.Append(("first value", valueInMain.Value)))
        {
            if (!probed.Phases.TryGetValue(name, out var list))
            {
                probed.Phases[name] = list = [];
                probed.Order.Add(name);
            }

            list.Add(at - previous);
            previous = at;
        }
    }

    return probed;
}

string ProbeRow(string kind, double? floor, Probed plain, Probed? phased)
{
    var value = Percentile(plain.FirstValue, 0.5);
    var ratio = floor is { } f ? (value / f).ToString("F1", CultureInfo.InvariantCulture) + "×" : "";
    var phases = phased is null ? "" : string.Join("; ", phased.Order.Select(n => $"{n} {Percentile(phased.Phases[n], 0.5):F1}"));
    return string.Create(CultureInfo.InvariantCulture,
        $"| {kind} | {floor:F1} | {value:F1} | {ratio} | {Percentile(plain.FirstValue, 0.9):F1} | {Percentile(plain.BeforeMain, 0.5):F1} | {Percentile(plain.Rss, 0.5) / (1024 * 1024):F1} | {phases} |");
}

static (string Kind, List<(string Name, string Value)> Environment) ProbeKind(string text)
{
    var bar = text.IndexOf('|', StringComparison.Ordinal);
    if (bar < 0)
    {
        return (text, []);
    }

    var variables = text[(bar + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(v => v.Split('=', 2)).Select(v => (v[0], v[1])).ToList();
    return (text[..bar], variables);
}

string Row(string kind, string what, Measured m) =>
    $"| {kind} | {what} | {Percentile(m.Init, 0.5):F1} | {Percentile(m.Init, 0.9):F1} | {Median(m.Duration)} | {P90(m.Duration)} | {Median(m.FirstResponse)} | {Median(m.WarmUp)} |";

static string Median(List<double> values) => values.Count > 0 ? Percentile(values, 0.5).ToString("F1", CultureInfo.InvariantCulture) : "";

static string P90(List<double> values) => values.Count > 0 ? Percentile(values, 0.9).ToString("F1", CultureInfo.InvariantCulture) : "";

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

internal sealed class Measured
{
    public List<double> Init { get; } = [];

    public List<double> FirstResponse { get; } = [];

    /// <summary>Lambda's Duration of the first invocation: from the event handed out to its response.</summary>
    public List<double> Duration { get; } = [];

    public List<double> WarmUp { get; } = [];
}

internal sealed class Probed
{
    public List<double> FirstValue { get; } = [];

    public List<double> BeforeMain { get; } = [];

    public List<double> Rss { get; } = [];

    public Dictionary<string, List<double>> Phases { get; } = new(StringComparer.Ordinal);

    public List<string> Order { get; } = [];
}

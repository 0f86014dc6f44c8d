using System.Globalization;
using System.Text;
using SecretsCache.FleetSimulator;
using static SecretsCache.FleetSimulator.Report;

// The quota and fleet benchmark: N instances of SecretProvider in one process against one emulator that enforces the
// Secrets Manager and Parameter Store quotas. See docs/benchmarks.md for what it measures and how to read it.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Settings settings;
try
{
    settings = Settings.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

ThreadPool.GetMinThreads(out var workers, out var io);
ThreadPool.SetMinThreads(Math.Max(workers, 16), io);
Directory.CreateDirectory(settings.OutDirectory);
var report = new StringBuilder();
var cpu = File.Exists("/proc/cpuinfo")
    ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
    : "unknown";
var machine = I($"{Environment.ProcessorCount} cores ({cpu}), {Environment.OSVersion}, .NET {Environment.Version}, {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC");
Console.WriteLine($"FleetSimulator: {machine}");
report.AppendLine(I($"Machine: {machine}."));
report.AppendLine(I($"Command: `dotnet run -c Release --project benchmarks/FleetSimulator -- {string.Join(' ', args)}`"));
report.AppendLine();

var runs = new List<(Mechanism Disabled, IReadOnlyList<Scenario> Scenarios, bool L2)> { (settings.Disabled, settings.Scenarios, settings.L2) };
if (settings.CompareL2)
{
    runs.Add((settings.Disabled, settings.Scenarios, true)); // The same scenarios with the Redis L2, after the L1-only run.
}

if (settings.Compare)
{
    // Every switch-off lives through the same scenarios as the baseline, so each phase starts at the same point of the
    // fleet's TTL cycle and the phases compare one to one.
    foreach (var mechanism in (Mechanism[])[Mechanism.SingleFlight, Mechanism.Jitter, Mechanism.Batching, Mechanism.RateLimit, Mechanism.Backoff, Mechanism.CircuitBreaker, Mechanism.ServeStale])
    {
        runs.Add((mechanism, settings.Scenarios, false));
    }
}

// A small fleet first, not measured: without it the first measured run alone would pay for JIT compilation while its
// 500 instances start, and its deploy would not compare with the others'.
Console.WriteLine();
Console.WriteLine("Warm-up (not measured): a tenth of the fleet deploys");
var scale = Math.Min(1.0, 50.0 / settings.Instances);
await new Fleet(settings with
{
    Instances = (int)Math.Ceiling(settings.Instances * scale),
    ReadsPerSecond = settings.ReadsPerSecond * scale,
    SecretsManagerQuota = settings.SecretsManagerQuota * scale,
    BatchQuota = settings.BatchQuota * scale,
    ParameterStoreQuota = settings.ParameterStoreQuota * scale,
    Scenarios = [Scenario.Deploy],
    Seconds = 5,
    L2 = settings.L2 || settings.CompareL2,
}).RunAsync();

var all = new List<ScenarioResult>();
var probes = new List<(string Run, LatencyHistogram Cold, LatencyHistogram Second)>();

// Chart links are relative to docs/ (where benchmarks.md lives), or to the report's own folder.
var reportDirectory = settings.ReportPath is null ? "docs" : Path.GetDirectoryName(Path.GetFullPath(settings.ReportPath))!;
foreach (var (disabled, scenarios, l2) in runs)
{
    var runSettings = settings with { Disabled = disabled, Scenarios = scenarios, L2 = l2 };
    Console.WriteLine();
    Console.WriteLine($"Run: {Settings.Describe(disabled, l2)}; scenarios {string.Join(", ", scenarios)}");
    var fleet = new Fleet(runSettings);
    await fleet.RunAsync();
    Console.WriteLine(I($"  collected {fleet.Timeline!.Collected:N0} backend requests{(fleet.Timeline.Lost > 0 ? I($" (WARNING: the request log window overflowed {fleet.Timeline.Lost} times)") : string.Empty)}; run took {fleet.TotalSeconds:0.0} s"));
    report.AppendLine(I($"## Run: {Settings.Describe(disabled, l2)}"));
    report.AppendLine();
    if (l2)
    {
        report.AppendLine(I($"L2 settings: `OperationTimeout` {settings.RedisOperationTimeoutMs:0} ms, `RefreshAheadFraction` {settings.L2RefreshAhead}, `FleetRateLimits.FallbackFleetSize` {settings.EffectiveFallbackFleetSize}."));
        report.AppendLine();
    }

    var suffix = (l2 ? "-l2" : string.Empty) + (disabled == Mechanism.None ? string.Empty : "-no-" + Settings.Describe(disabled).Replace(" off", string.Empty, StringComparison.Ordinal).Replace(", ", "-", StringComparison.Ordinal));
    var csv = $"timeline{suffix}.csv";
    await File.WriteAllTextAsync(Path.Combine(settings.OutDirectory, csv), TimelineCsv(fleet));
    report.AppendLine(I($"Backend requests per operation in every one-second bucket: [{csv}]({Path.GetRelativePath(reportDirectory, Path.Combine(settings.OutDirectory, csv)).Replace('\\', '/')})."));
    report.AppendLine();
    probes.Add((Settings.Describe(disabled, l2), fleet.ColdMissLatency, fleet.SecondMissLatency));
    report.AppendLine(I($"Miss probe after the last phase (100 secrets no one had read, one read at a time): first instance p50 {Ms(fleet.ColdMissLatency.Percentile(0.5))}, p99 {Ms(fleet.ColdMissLatency.Percentile(0.99))}; a second instance right after p50 {Ms(fleet.SecondMissLatency.Percentile(0.5))}, p99 {Ms(fleet.SecondMissLatency.Percentile(0.99))}."));
    report.AppendLine();
    foreach (var phase in fleet.Phases)
    {
        var result = Summarize(fleet, phase);
        all.Add(result);
        var file = $"{phase.Scenario.ToString().ToLowerInvariant()}{suffix}.svg";
        await File.WriteAllTextAsync(Path.Combine(settings.OutDirectory, file), Chart(fleet, phase, result, runSettings));
        var link = Path.GetRelativePath(reportDirectory, Path.Combine(settings.OutDirectory, file)).Replace('\\', '/');
        var text = ScenarioMarkdown(fleet, phase, result, runSettings, link);
        Console.WriteLine();
        Console.Write(text);
        report.Append(text);
    }
}

var comparison = Comparison(all, settings);
Console.WriteLine();
Console.WriteLine(comparison);
report.AppendLine("## Side by side");
report.AppendLine();
report.Append(comparison);
if (all.Exists(r => r.L2))
{
    var l2 = L2Comparison(all, settings);
    Console.WriteLine();
    Console.WriteLine(l2);
    report.AppendLine();
    report.AppendLine("## L1 only and L2 side by side");
    report.AppendLine();
    report.Append(l2);
    var probeTable = new StringBuilder();
    probeTable.AppendLine();
    probeTable.AppendLine("Miss latency, probed after the last phase (100 secrets no one had read, one read at a time on an idle fleet):");
    probeTable.AppendLine();
    probeTable.AppendLine("| Run | First instance's read (L2: Redis miss, lease, AWS, write) p50 | p99 | Second instance's read (L2: a Redis hit) p50 | p99 |");
    probeTable.AppendLine("|---|---:|---:|---:|---:|");
    foreach (var (run, cold, second) in probes)
    {
        probeTable.AppendLine(I($"| {run} | {Ms(cold.Percentile(0.5))} | {Ms(cold.Percentile(0.99))} | {Ms(second.Percentile(0.5))} | {Ms(second.Percentile(0.99))} |"));
    }

    Console.Write(probeTable);
    report.Append(probeTable);
}

if (settings.ReportPath is not null)
{
    await File.WriteAllTextAsync(settings.ReportPath, report.ToString());
    Console.WriteLine($"Report written to {settings.ReportPath}");
}

return 0;

using System.Globalization;
using System.Text;

namespace SecretsCache.FleetSimulator;

/// <summary>One scenario's numbers, from the emulator's request log (backend) and the callers' counters.</summary>
internal sealed record ScenarioResult(
    Scenario Scenario,
    Mechanism Disabled,
    int FirstSecond,
    int Buckets,
    long[] SecretsManager,
    long PeakSecretsManager,
    double MeanSecretsManager,
    long PeakBatch,
    long PeakParameterStore,
    long Throttled,
    long Faulted,
    long Reads,
    double AchievedReadsPerSecond,
    long ErrorsWithStale,
    long ErrorsCold,
    TimeSpan P50,
    TimeSpan P99,
    TimeSpan Max,
    TimeSpan ParameterP99,
    TimeSpan ParameterMax,
    long HeldReads,
    TimeSpan HeldP99,
    long ColdReads,
    TimeSpan ColdP99,
    long StaleReads,
    TimeSpan StaleP99,
    string ErrorTypes,
    double SecretsWarmSeconds)
{
    public string Run { get; init; } = string.Empty;

    public bool L2 { get; init; }

    public double Seconds { get; init; }

    /// <summary>GetSecretValue requests sent in the phase.</summary>
    public long GetSecretValueSent { get; init; }

    /// <summary>Every billed Secrets Manager call (GetSecretValue, DescribeSecret, BatchGetSecretValue) sent in the phase.</summary>
    public long SecretsManagerCalls { get; init; }

    public TimeSpan MissP50 { get; init; }

    public TimeSpan MissP99 { get; init; }

    public long Misses { get; init; }

    public TimeSpan FetchP50 { get; init; }

    public TimeSpan FetchP99 { get; init; }

    public double RotationSpreadP99 { get; init; } = double.NaN;

    public double RotationSpreadMax { get; init; } = double.NaN;

    public int RotationSpreadSecrets { get; init; }

    public double AutoscaleWarmSeconds { get; init; } = double.NaN;
}

internal static class Report
{
    private static string SlowStaleSeconds(CallerStats callers) => string.Join(", ", Enumerable.Range(0, CallerStats.TrackedSeconds)
        .Where(second => Volatile.Read(ref callers.SlowStaleBySecond[second]) > 0)
        .Select(second => I($"t = {second} s: {callers.SlowStaleBySecond[second]:N0} ({callers.FallbackStaleBySecond[second]:N0})")));

    private static readonly (string Label, int[] Operations, string Color, string? Quota)[] Rows =
    [
        ("GetSecretValue + DescribeSecret", [0, 1], "#1f77b4", "SecretsManagerQuota"),
        ("GetSecretValue", [0], "#17becf", null),
        ("DescribeSecret", [1], "#9467bd", null),
        ("BatchGetSecretValue", [2], "#ff7f0e", "BatchQuota"),
        ("GetParameter", [3], "#2ca02c", null),
        ("GetParameters", [4], "#8c564b", null),
        ("Parameter Store (all)", [3, 4, 5], "#2ca02c", "ParameterStoreQuota"),
    ];

    public static ScenarioResult Summarize(Fleet fleet, Phase phase)
    {
        var t = fleet.Timeline!;
        var first = Math.Max(0, (int)Math.Round(phase.StartSecond));
        var last = Math.Min(t.Arrivals[0].Length, Math.Max(first + 1, (int)Math.Round(phase.EndSecond)));
        var buckets = last - first;
        var sm = Series(t.Sent, [0, 1], first, buckets);
        var ssm = Series(t.Sent, [3, 4, 5], first, buckets);
        var batch = Series(t.Sent, [2], first, buckets);
        long throttled = 0, faulted = 0;
        for (var op = 0; op < t.Arrivals.Length; op++)
        {
            for (var s = first; s < last; s++)
            {
                throttled += t.Throttled[op][s];
                faulted += t.Faulted[op][s];
            }
        }

        var c = phase.Callers;
        return new ScenarioResult(
            phase.Scenario,
            fleet.Disabled,
            first,
            buckets,
            sm,
            sm.Max(),
            sm.Average(),
            batch.Max(),
            ssm.Max(),
            throttled,
            faulted,
            c.Reads,
            c.Reads / phase.Seconds,
            c.ErrorsWithStale,
            c.ErrorsCold,
            c.Latency.Percentile(0.50),
            c.Latency.Percentile(0.99),
            c.Latency.Max,
            c.ParameterLatency.Percentile(0.99),
            c.ParameterLatency.Max,
            c.HeldLatency.Count,
            c.HeldLatency.Percentile(0.99),
            c.ColdLatency.Count,
            c.ColdLatency.Percentile(0.99),
            c.StaleLatency.Count,
            c.StaleLatency.Percentile(0.99),
            string.Join(", ", c.ErrorTypes.OrderByDescending(e => e.Value).Select(e => I($"{e.Key} {e.Value:N0}"))),
            phase.Scenario == FleetSimulator.Scenario.Deploy ? fleet.DeploySecretsWarmSeconds : double.NaN)
        {
            Run = fleet.Label,
            L2 = fleet.L2,
            Seconds = phase.Seconds,
            GetSecretValueSent = Series(t.Sent, [0], first, buckets).Sum(),
            SecretsManagerCalls = Series(t.Sent, [0, 1, 2], first, buckets).Sum(),
            MissP50 = c.MissLatency.Percentile(0.50),
            MissP99 = c.MissLatency.Percentile(0.99),
            Misses = c.MissLatency.Count,
            FetchP50 = c.FetchLatency.Percentile(0.50),
            FetchP99 = c.FetchLatency.Percentile(0.99),
            RotationSpreadP99 = phase.Scenario == FleetSimulator.Scenario.Rotation && fleet.RotationSpreads.Any(d => !double.IsNaN(d)) ? fleet.RotationSpreads.Where(d => !double.IsNaN(d)).Order().ElementAt((int)(fleet.RotationSpreads.Count(d => !double.IsNaN(d)) * 0.99)) : double.NaN,
            RotationSpreadMax = phase.Scenario == FleetSimulator.Scenario.Rotation && fleet.RotationSpreads.Any(d => !double.IsNaN(d)) ? fleet.RotationSpreads.Where(d => !double.IsNaN(d)).Max() : double.NaN,
            RotationSpreadSecrets = phase.Scenario == FleetSimulator.Scenario.Rotation ? fleet.RotationSpreads.Count(d => !double.IsNaN(d)) : 0,
            AutoscaleWarmSeconds = phase.Scenario == FleetSimulator.Scenario.Autoscale ? fleet.AutoscaleWarmSeconds : double.NaN,
        };
    }

    /// <summary>
    /// The L1-only and the L2 runs side by side, per scenario, against the issue's targets. Cost: every Secrets Manager call
    /// of the phase's mean rate, for a 30-day month, at $0.05 per 10,000 calls.
    /// </summary>
    public static string L2Comparison(IReadOnlyList<ScenarioResult> results, Settings settings)
    {
        var sb = new StringBuilder();
        sb.AppendLine(I($"| Scenario | Run | GetSecretValue per TTL ({settings.TtlSeconds:0} s) | ÷ {settings.Secrets} secrets (target ≤ 1.1 with L2) | Secrets Manager calls/month | API cost/month | Secrets warm (deploy ≤ 2 s; autoscale: added instances) | Rotation spread p99 / max (≤ 1 s) | Busiest second GSV+Describe (quota {settings.SecretsManagerQuota:N0}) / Batch ({settings.BatchQuota:N0}) / SSM ({settings.ParameterStoreQuota:N0}) | Caller errors | L1-miss latency p50 / p99 (misses) | GetSecretValue round trip p50 / p99 |"));
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var group in results.GroupBy(r => r.Scenario))
        {
            foreach (var r in group.OrderBy(r => r.L2))
            {
                var ttls = r.Seconds / settings.TtlSeconds;
                var perTtl = r.GetSecretValueSent / ttls;
                var monthly = r.SecretsManagerCalls / r.Seconds * 30 * 86_400;
                var warm = r.Scenario == FleetSimulator.Scenario.Autoscale ? r.AutoscaleWarmSeconds : r.SecretsWarmSeconds;
                var warmText = double.IsNaN(warm) ? (r.Scenario is FleetSimulator.Scenario.Deploy or FleetSimulator.Scenario.Autoscale ? "not all" : "") : I($"{warm:0.00} s");
                var spread = double.IsNaN(r.RotationSpreadMax) ? "" : I($"{r.RotationSpreadP99:0.00} / {r.RotationSpreadMax:0.00} s ({r.RotationSpreadSecrets} secrets)");
                var over = r.PeakSecretsManager > settings.SecretsManagerQuota || r.PeakBatch > settings.BatchQuota || r.PeakParameterStore > settings.ParameterStoreQuota ? " ⚠" : string.Empty;
                sb.AppendLine(I($"| {r.Scenario} | {(r.L2 ? "**L2**" : "L1 only")} | {perTtl:N0} | {perTtl / settings.Secrets:0.00} | {monthly:N0} | ${monthly / 10_000 * 0.05:N2} | {warmText} | {spread} | {r.PeakSecretsManager:N0} / {r.PeakBatch:N0} / {r.PeakParameterStore:N0}{over} | {r.ErrorsWithStale + r.ErrorsCold:N0} | {(r.Misses == 0 ? "none" : I($"{Ms(r.MissP50)} / {Ms(r.MissP99)} ({r.Misses:N0})"))} | {Ms(r.FetchP50)} / {Ms(r.FetchP99)} |"));
            }
        }

        return sb.ToString();
    }

    /// <summary>Every one-second bucket of the run: arrivals, throttled and 5xx per operation, with the scenario it fell in.</summary>
    public static string TimelineCsv(Fleet fleet)
    {
        var t = fleet.Timeline!;
        var names = RequestTimeline.Operations.Append("other").ToArray();
        var csv = new StringBuilder("second,scenario");
        foreach (var name in names)
        {
            csv.Append(I($",{name} sent,{name} arrived,{name} throttled,{name} 5xx"));
        }

        csv.AppendLine();
        var seconds = Math.Min(t.Arrivals[0].Length, (int)Math.Ceiling(fleet.TotalSeconds));
        for (var second = 0; second < seconds; second++)
        {
            var phase = fleet.Phases.LastOrDefault(p => p.StartSecond <= second + 0.5);
            csv.Append(I($"{second},{phase?.Scenario.ToString().ToLowerInvariant()}"));
            for (var op = 0; op < names.Length; op++)
            {
                csv.Append(I($",{t.Sent[op][second]},{t.Arrivals[op][second]},{t.Throttled[op][second]},{t.Faulted[op][second]}"));
            }

            csv.AppendLine();
        }

        return csv.ToString();
    }

    public static string ScenarioMarkdown(Fleet fleet, Phase phase, ScenarioResult r, Settings settings, string? chart)
    {
        var t = fleet.Timeline!;
        var sb = new StringBuilder();
        sb.AppendLine(I($"### {phase.Scenario} ({fleet.Label}): t = {phase.StartSecond:0.0}–{phase.EndSecond:0.0} s"));
        sb.AppendLine();
        foreach (var note in phase.Notes)
        {
            sb.AppendLine(I($"- {note}"));
        }

        if (phase.Notes.Count > 0)
        {
            sb.AppendLine();
        }

        sb.AppendLine("| Backend operation | Requests sent | Peak /s | Mean /s | Throttled | 5xx (injected) |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (label, ops, _, quota) in Rows)
        {
            long total = 0, throttled = 0, faulted = 0;
            var series = Series(t.Sent, ops, r.FirstSecond, r.Buckets);
            foreach (var op in ops)
            {
                for (var s = r.FirstSecond; s < r.FirstSecond + r.Buckets; s++)
                {
                    total += t.Sent[op][s];
                    throttled += t.Throttled[op][s];
                    faulted += t.Faulted[op][s];
                }
            }

            if (total == 0 && quota is null)
            {
                continue;
            }

            var limit = quota switch
            {
                "SecretsManagerQuota" => I($" (quota {settings.SecretsManagerQuota:N0}/s)"),
                "BatchQuota" => I($" (quota {settings.BatchQuota:N0}/s)"),
                "ParameterStoreQuota" => I($" (quota {settings.ParameterStoreQuota:N0}/s)"),
                _ => string.Empty,
            };
            var bold = quota == "SecretsManagerQuota" ? "**" : string.Empty;
            sb.AppendLine(I($"| {bold}{label}{limit}{bold} | {total:N0} | {bold}{series.Max():N0}{bold} | {series.Average():N0} | {throttled:N0} | {faulted:N0} |"));
        }

        sb.AppendLine();
        sb.AppendLine(I($"Rates are by the second each instance sent the request. By arrival at the emulator (which shares this process, so a busy second there can spill into the next) the busiest second held {Series(t.Arrivals, [0, 1], r.FirstSecond, r.Buckets).Max():N0} GetSecretValue + DescribeSecret, {Series(t.Arrivals, [2], r.FirstSecond, r.Buckets).Max():N0} BatchGetSecretValue and {Series(t.Arrivals, [3, 4, 5], r.FirstSecond, r.Buckets).Max():N0} Parameter Store requests."));
        sb.AppendLine();
        sb.AppendLine("| Caller reads | Achieved reads/s | Errors, stale value existed | Errors, cold (no value yet) | Secret reads p50 | p99 | max | Parameter reads p99 | max | Secret L1 misses | miss p50 | miss p99 | Reads holding a value: count, p99 | of which holding an expired (stale) value: count, p99 | Cold reads: count, p99 |");
        sb.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        sb.AppendLine(I($"| {r.Reads:N0} | {r.AchievedReadsPerSecond:N0} | {r.ErrorsWithStale:N0} | {r.ErrorsCold:N0} | {Ms(r.P50)} | {Ms(r.P99)} | {Ms(r.Max)} | {Ms(r.ParameterP99)} | {Ms(r.ParameterMax)} | {r.Misses:N0} | {Ms(r.MissP50)} | {Ms(r.MissP99)} | {r.HeldReads:N0}, {Ms(r.HeldP99)} | {r.StaleReads:N0}, {Ms(r.StaleP99)} | {r.ColdReads:N0}, {Ms(r.ColdP99)} |"));
        if (SlowStaleSeconds(phase.Callers) is { Length: > 0 } slow)
        {
            sb.AppendLine();
            sb.AppendLine(I($"Stale-value reads slower than 100 ms, by the second of the run they ended in (of them slower than 900 ms): {slow}."));
        }

        if (r.ErrorTypes.Length > 0)
        {
            sb.AppendLine();
            sb.AppendLine(I($"Caller errors by type: {r.ErrorTypes}."));
        }

        if (!phase.Callers.L2Events.IsEmpty)
        {
            sb.AppendLine();
            sb.AppendLine(I($"Second-level events (the Redis package's counters): {L2Telemetry.Describe(phase.Callers)}."));
        }

        sb.AppendLine();
        sb.AppendLine(I($"Machine during this phase: this process used {phase.ProcessCores:0.00} of {Environment.ProcessorCount} cores on average; the machine's load average peaked at {phase.MaxLoadAverage:0.0}; the thread-pool queue peaked at {phase.MaxQueued:N0} work items."));
        if (phase.MaxQueued > 10_000)
        {
            sb.AppendLine();
            sb.AppendLine(I($"**The simulator process was saturated in this phase** (thread-pool queue peaked at {phase.MaxQueued:N0} work items): the emulator shares the process's thread pool with the fleet, so from then on the numbers describe this machine, not the library."));
        }

        if (phase.Callers.Skipped > 0)
        {
            sb.AppendLine();
            sb.AppendLine(I($"Reads skipped because an instance had 200 reads outstanding: {phase.Callers.Skipped:N0}."));
        }

        if (chart is not null)
        {
            sb.AppendLine();
            sb.AppendLine(I($"![{phase.Scenario}: backend requests per second]({chart})"));
        }

        sb.AppendLine();
        return sb.ToString();
    }

    public static string Comparison(IReadOnlyList<ScenarioResult> results, Settings settings)
    {
        var sb = new StringBuilder();
        sb.AppendLine(I($"| Run | Scenario | Peak GetSecretValue+DescribeSecret /s (quota {settings.SecretsManagerQuota:N0}) | Mean /s | Peak Batch /s (quota {settings.BatchQuota:N0}) | Peak Parameter Store /s (quota {settings.ParameterStoreQuota:N0}) | Throttled | Caller errors, stale existed | Caller errors, cold | Secret reads p99 | max | Held-value reads p99 | Stale-value reads p99 | Cold reads p99 | Secrets warm after |"));
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            var over = r.PeakSecretsManager > settings.SecretsManagerQuota ? " ⚠" : string.Empty;
            sb.AppendLine(I($"| {r.Run} | {r.Scenario} | {r.PeakSecretsManager:N0}{over} | {r.MeanSecretsManager:N0} | {r.PeakBatch:N0} | {r.PeakParameterStore:N0} | {r.Throttled:N0} | {r.ErrorsWithStale:N0} | {r.ErrorsCold:N0} | {Ms(r.P99)} | {Ms(r.Max)} | {Ms(r.HeldP99)} | {Ms(r.StaleP99)} | {Ms(r.ColdP99)} | {(double.IsNaN(r.SecretsWarmSeconds) ? (r.Scenario == FleetSimulator.Scenario.Deploy ? "not all" : "") : I($"{r.SecretsWarmSeconds:0.0} s"))} |"));
        }

        return sb.ToString();
    }

    /// <summary>A hand-written SVG line chart: requests per second per operation over the phase, the quota as a dashed line.</summary>
    public static string Chart(Fleet fleet, Phase phase, ScenarioResult r, Settings settings)
    {
        var t = fleet.Timeline!;
        const double W = 900, H = 420, Left = 70, Right = 20, Top = 60, Bottom = 50;
        var series = new List<(string Label, long[] Values, string Color, string Dash)>
        {
            ("GetSecretValue", Series(t.Sent, [0], r.FirstSecond, r.Buckets), "#1f77b4", string.Empty),
            ("DescribeSecret", Series(t.Sent, [1], r.FirstSecond, r.Buckets), "#9467bd", string.Empty),
            ("BatchGetSecretValue", Series(t.Sent, [2], r.FirstSecond, r.Buckets), "#ff7f0e", string.Empty),
            ("Parameter Store", Series(t.Sent, [3, 4, 5], r.FirstSecond, r.Buckets), "#2ca02c", string.Empty),
            ("throttled (all operations)", Series(t.Throttled, [0, 1, 2, 3, 4, 5, 6], r.FirstSecond, r.Buckets), "#d62728", "2,3"),
            ("5xx injected (all operations)", Series(t.Faulted, [0, 1, 2, 3, 4, 5, 6], r.FirstSecond, r.Buckets), "#7f7f7f", "6,3"),
        };
        series.RemoveAll(s => s.Values.All(v => v == 0) && s.Label != "GetSecretValue");
        var peak = series.Max(s => s.Values.Max());
        var yMax = NiceCeiling(Math.Max(settings.SecretsManagerQuota * 1.15, peak * 1.1));
        var xMax = Math.Max(1, r.Buckets);
        double X(double second) => Left + (second / xMax * (W - Left - Right));
        double Y(double value) => Top + ((1 - (value / yMax)) * (H - Top - Bottom));

        var sb = new StringBuilder();
        sb.AppendLine(I($"""<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"""));
        sb.AppendLine(I($"""<rect width="{W}" height="{H}" fill="white"/>"""));
        sb.AppendLine(I($"""<text x="{Left}" y="20" font-size="15" font-weight="bold">{phase.Scenario}: backend requests per second ({settings.Instances} instances, {fleet.Label})</text>"""));

        // Grid and axes.
        var yStep = NiceStep(yMax / 6);
        for (var v = 0.0; v <= yMax + 1e-9; v += yStep)
        {
            sb.AppendLine(I($"""<line x1="{Left}" y1="{Y(v):0.#}" x2="{W - Right}" y2="{Y(v):0.#}" stroke="#e5e5e5"/>"""));
            sb.AppendLine(I($"""<text x="{Left - 6}" y="{Y(v) + 4:0.#}" text-anchor="end">{v:N0}</text>"""));
        }

        var xStep = xMax <= 30 ? 5 : 10;
        for (var s = 0; s <= xMax; s += xStep)
        {
            sb.AppendLine(I($"""<line x1="{X(s):0.#}" y1="{H - Bottom}" x2="{X(s):0.#}" y2="{H - Bottom + 5}" stroke="black"/>"""));
            sb.AppendLine(I($"""<text x="{X(s):0.#}" y="{H - Bottom + 18}" text-anchor="middle">{s}</text>"""));
        }

        sb.AppendLine(I($"""<line x1="{Left}" y1="{Top}" x2="{Left}" y2="{H - Bottom}" stroke="black"/>"""));
        sb.AppendLine(I($"""<line x1="{Left}" y1="{H - Bottom}" x2="{W - Right}" y2="{H - Bottom}" stroke="black"/>"""));
        sb.AppendLine(I($"""<text x="{(Left + W - Right) / 2}" y="{H - 10}" text-anchor="middle">seconds since the scenario started (1-second buckets, by send time)</text>"""));
        sb.AppendLine(I($"""<text transform="translate(16 {(Top + H - Bottom) / 2}) rotate(-90)" text-anchor="middle">requests / s</text>"""));

        // Events (rotation, outage).
        foreach (var (second, label) in phase.Markers)
        {
            var x = X(second - r.FirstSecond);
            sb.AppendLine(I($"""<line x1="{x:0.#}" y1="{Top}" x2="{x:0.#}" y2="{H - Bottom}" stroke="#555" stroke-dasharray="1,3"/>"""));
            sb.AppendLine(I($"""<text x="{x + 3:0.#}" y="{Top + 12}" fill="#555">{label}</text>"""));
        }

        // The quota line.
        var qy = Y(settings.SecretsManagerQuota);
        sb.AppendLine(I($"""<line x1="{Left}" y1="{qy:0.#}" x2="{W - Right}" y2="{qy:0.#}" stroke="#d62728" stroke-width="1.5" stroke-dasharray="8,5"/>"""));
        sb.AppendLine(I($"""<text x="{W - Right - 4}" y="{qy - 5:0.#}" text-anchor="end" fill="#d62728">quota {settings.SecretsManagerQuota:N0}/s (GetSecretValue + DescribeSecret)</text>"""));

        foreach (var (label, values, color, dash) in series)
        {
            var points = string.Join(' ', values.Select((v, i) => I($"{X(i + 0.5):0.#},{Y(v):0.#}")));
            var dashAttribute = dash.Length > 0 ? I($" stroke-dasharray=\"{dash}\"") : string.Empty;
            sb.AppendLine(I($"""<polyline fill="none" stroke="{color}" stroke-width="2"{dashAttribute} points="{points}"/>"""));
        }

        // Legend.
        var lx = Left + 10.0;
        foreach (var (label, _, color, dash) in series)
        {
            var dashAttribute = dash.Length > 0 ? I($" stroke-dasharray=\"{dash}\"") : string.Empty;
            sb.AppendLine(I($"""<line x1="{lx:0.#}" y1="40" x2="{lx + 22:0.#}" y2="40" stroke="{color}" stroke-width="2"{dashAttribute}/>"""));
            sb.AppendLine(I($"""<text x="{lx + 26:0.#}" y="44">{label}</text>"""));
            lx += 36 + (label.Length * 6.6);
        }

        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    public static string I(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public static string Ms(TimeSpan t) => t.TotalMilliseconds < 1 ? I($"{t.TotalMicroseconds:0.#} µs") : I($"{t.TotalMilliseconds:0.#} ms");

    private static long[] Series(long[][] rows, int[] operations, int first, int buckets)
    {
        var values = new long[Math.Max(1, buckets)];
        foreach (var op in operations)
        {
            for (var s = 0; s < buckets; s++)
            {
                values[s] += rows[op][first + s];
            }
        }

        return values;
    }

    private static double NiceStep(double raw)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(raw, 1))));
        var f = raw / magnitude;
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
    }

    private static double NiceCeiling(double value)
    {
        var step = NiceStep(value / 6);
        return Math.Ceiling(value / step) * step;
    }
}

using System.Globalization;

namespace SecretsCache.FleetSimulator;

/// <summary>The scenarios, in the order a fleet lives through them. Deploy always runs: the others need a warm fleet.</summary>
internal enum Scenario
{
    Deploy,
    Steady,
    Rotation,
    Outage,

    /// <summary>The Redis server is killed mid-phase and started again on the same port (L2 runs; a steady phase without one).</summary>
    RedisRestart,

    /// <summary>The fleet doubles, then halves, mid-phase; no instance is told the fleet's size.</summary>
    Autoscale,
}

/// <summary>The mechanisms a run can switch off (see docs/benchmarks.md for how each switch-off is emulated).</summary>
[Flags]
internal enum Mechanism
{
    None = 0,
    SingleFlight = 1,
    Jitter = 2,
    Batching = 4,
    RateLimit = 8,
    Backoff = 16,
    CircuitBreaker = 32,
    ServeStale = 64,
}

/// <summary>Command-line settings. Every loop of the simulator is bounded by these counts and durations.</summary>
internal sealed record Settings
{
    public int Instances { get; init; } = 500;

    public int Secrets { get; init; } = 50;

    /// <summary>Parameter Store parameters; default a tenth of the secrets.</summary>
    public int Parameters { get; init; } = -1;

    public double ReadsPerSecond { get; init; } = 20_000;

    /// <summary>The length of the deploy, rotation and outage phases.</summary>
    public double Seconds { get; init; } = 22;

    /// <summary>The steady phase lasts this many TTLs.</summary>
    public double SteadyTtls { get; init; } = 2.5;

    public double TtlSeconds { get; init; } = 15;

    /// <summary>TTL of Parameter Store references (config changes rarely; 40/s cannot refresh thousands of copies every few seconds).</summary>
    public double ParameterTtlSeconds { get; init; } = 300;

    public double SecretsManagerQuota { get; init; } = 5_500;

    public double BatchQuota { get; init; } = 100;

    public double ParameterStoreQuota { get; init; } = 40;

    /// <summary>How long every request answers 503 in the outage scenario.</summary>
    public double OutageSeconds { get; init; } = 8;

    /// <summary>How far into the Redis restart phase redis-server is killed (it starts again 2 s later): place the kill on the fleet's refresh window.</summary>
    public double RedisKillAfterSeconds { get; init; } = 3;

    public int MaxConnectionsPerServer { get; init; } = 2;

    /// <summary>Each instance's client-side rate limit, as a fraction of its fair share (quota / instances).</summary>
    public double RateShare { get; init; } = 1;

    public IReadOnlyList<Scenario> Scenarios { get; init; } = [Scenario.Deploy, Scenario.Steady, Scenario.Rotation, Scenario.Outage];

    public Mechanism Disabled { get; init; }

    /// <summary>This run's instances share a Redis second level (one private redis-server, one connection per instance, no ShareAcross).</summary>
    public bool L2 { get; init; }

    /// <summary>--l2: run the L1-only fleet, then the same scenarios with the Redis L2, and print them side by side.</summary>
    public bool CompareL2 { get; init; }

    /// <summary>The Redis L2's per-call budget. The library default, 250 ms, was too low under this benchmark's load on a 2-core machine.</summary>
    public double RedisOperationTimeoutMs { get; init; } = 1_000;

    /// <summary><c>RedisL2Options.LeaseWaitTimeout</c> in L2 runs (0: the library's default, 2 s).</summary>
    public double LeaseWaitMs { get; init; }

    /// <summary>
    /// <c>FleetRateLimits.FallbackFleetSize</c> in L2 runs: the fleet size each instance's static share (used while Redis is
    /// unreachable) assumes; 0 means twice <see cref="Instances"/>, the largest fleet the autoscale makes, as the sizing
    /// guidance says; <c>--fallback-fleet-size 10</c> is the library's default.
    /// </summary>
    public int FallbackFleetSize { get; init; }

    public int EffectiveFallbackFleetSize => FallbackFleetSize > 0 ? FallbackFleetSize : 2 * Instances;

    /// <summary><c>RedisL2Options.RefreshAheadFraction</c> in L2 runs (the library's default): the fleet refreshes a shared entry at this fraction of its TTL.</summary>
    public double L2RefreshAhead { get; init; } = 0.95;

    /// <summary>Run the baseline, then one run per mechanism switched off, and print them side by side.</summary>
    public bool Compare { get; init; }

    public string OutDirectory { get; init; } = "docs/fleet";

    /// <summary>Where the markdown report goes (null: stdout only).</summary>
    public string? ReportPath { get; init; }

    public int ParameterCount => Parameters >= 0 ? Parameters : Math.Max(1, Secrets / 10);

    /// <summary>
    /// A phase's length. Steady lasts <see cref="SteadyTtls"/> TTLs; the rotation at least a TTL and 4 s, so every value
    /// fetched before the rotation (2 s into the phase) expires before the phase ends and the spread covers every secret.
    /// </summary>
    public double PhaseSeconds(Scenario scenario) => scenario switch
    {
        Scenario.Steady => Math.Max(Seconds, SteadyTtls * TtlSeconds),
        Scenario.Rotation => Math.Max(Seconds, TtlSeconds + 4),
        _ => Seconds,
    };

    /// <summary>All phases of this run, back to back.</summary>
    public double TotalPhaseSeconds => Scenarios.Sum(PhaseSeconds);

    public static Settings Parse(string[] args)
    {
        var s = new Settings();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            double Number() => double.Parse(Next(), CultureInfo.InvariantCulture);
            s = name switch
            {
                "--instances" => s with { Instances = (int)Number() },
                "--secrets" => s with { Secrets = (int)Number() },
                "--parameters" => s with { Parameters = (int)Number() },
                "--reads-per-second" => s with { ReadsPerSecond = Number() },
                "--seconds" => s with { Seconds = Number() },
                "--steady-ttls" => s with { SteadyTtls = Number() },
                "--ttl" => s with { TtlSeconds = Number() },
                "--parameter-ttl" => s with { ParameterTtlSeconds = Number() },
                "--sm-quota" => s with { SecretsManagerQuota = Number() },
                "--batch-quota" => s with { BatchQuota = Number() },
                "--ssm-quota" => s with { ParameterStoreQuota = Number() },
                "--outage-seconds" => s with { OutageSeconds = Number() },
                "--redis-kill-after" => s with { RedisKillAfterSeconds = Number() },
                "--max-connections" => s with { MaxConnectionsPerServer = (int)Number() },
                "--rate-share" => s with { RateShare = Number() },
                "--scenario" => s with { Scenarios = ParseScenarios(Next()) },
                "--disable" => s with { Disabled = ParseMechanisms(Next()) },
                "--compare" => s with { Compare = true },
                "--l2" => s with { CompareL2 = true },
                "--l2-only" => s with { L2 = true },
                "--redis-timeout-ms" => s with { RedisOperationTimeoutMs = Number() },
                "--lease-wait-ms" => s with { LeaseWaitMs = Number() },
                "--l2-refresh-ahead" => s with { L2RefreshAhead = Number() },
                "--fallback-fleet-size" => s with { FallbackFleetSize = (int)Number() },
                "--out" => s with { OutDirectory = Next() },
                "--report" => s with { ReportPath = Next() },
                _ => throw new ArgumentException($"Unknown option '{name}'. See docs/benchmarks.md."),
            };
        }

        if (s.Instances < 1 || s.Secrets < 1 || s.ReadsPerSecond <= 0 || s.Seconds < 5 || s.TtlSeconds <= 0 || s.SteadyTtls <= 0 || s.RedisKillAfterSeconds < 0)
        {
            throw new ArgumentException("Need --instances >= 1, --secrets >= 1, --reads-per-second > 0, --seconds >= 5, --ttl > 0, --steady-ttls > 0, --redis-kill-after >= 0.");
        }

        return s;
    }

    public static IReadOnlyList<Scenario> ParseScenarios(string text)
    {
        if (text.Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return [Scenario.Deploy, Scenario.Steady, Scenario.Rotation, Scenario.Outage, Scenario.RedisRestart, Scenario.Autoscale];
        }

        var chosen = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => Enum.Parse<Scenario>(t.Replace("-", string.Empty, StringComparison.Ordinal), ignoreCase: true)).Append(Scenario.Deploy).ToHashSet();
        return [.. chosen.Order()];
    }

    public static Mechanism ParseMechanisms(string text)
    {
        var result = Mechanism.None;
        foreach (var t in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            result |= t.ToUpperInvariant() switch
            {
                "SINGLE-FLIGHT" or "SINGLEFLIGHT" => Mechanism.SingleFlight,
                "JITTER" => Mechanism.Jitter,
                "BATCHING" => Mechanism.Batching,
                "RATE-LIMIT" or "RATELIMIT" => Mechanism.RateLimit,
                "BACKOFF" => Mechanism.Backoff,
                "CIRCUIT-BREAKER" or "CIRCUITBREAKER" or "BREAKER" => Mechanism.CircuitBreaker,
                "SERVE-STALE" or "SERVESTALE" or "STALE" => Mechanism.ServeStale,
                "NONE" => Mechanism.None,
                _ => throw new ArgumentException($"Unknown mechanism '{t}' (single-flight, jitter, batching, rate-limit, backoff, circuit-breaker, serve-stale)."),
            };
        }

        return result;
    }

    public static string Describe(Mechanism m, bool l2) => l2 ? "L2 (Redis), " + Describe(m) : Describe(m);

    public static string Describe(Mechanism m) => m == Mechanism.None
        ? "everything on"
        : string.Join(", ", Enum.GetValues<Mechanism>().Where(v => v != Mechanism.None && m.HasFlag(v)).Select(v => v switch
        {
            Mechanism.SingleFlight => "single-flight",
            Mechanism.Jitter => "jitter",
            Mechanism.Batching => "batching",
            Mechanism.RateLimit => "rate-limit",
            Mechanism.CircuitBreaker => "circuit-breaker",
            Mechanism.ServeStale => "serve-stale",
            _ => "backoff",
        })) + " off";
}

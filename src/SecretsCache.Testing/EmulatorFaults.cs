using SecretsCache.Testing.Faults;

namespace SecretsCache.Testing;

/// <summary>
/// Faults the emulator injects into requests that passed authentication, in this order: connection resets, quota
/// throttling, then failures. The rules set here apply to every region; <see cref="ForRegion"/> scopes them to one
/// (an outage of us-east-1 only). Thread-safe; every count is exact under concurrency.
/// </summary>
public sealed class EmulatorFaults : FaultRules
{
    private readonly Dictionary<string, FaultRules> _regions = new(StringComparer.Ordinal);
    private long _clockSkewTicks;

    internal EmulatorFaults(TimeProvider time, IEnumerable<string> regions)
        : base(time, new object())
    {
        foreach (var region in regions)
        {
            _regions[region] = new FaultRules(time, Sync);
        }
    }

    /// <summary>How far the emulator's clock runs ahead of its <see cref="TimeProvider"/> (negative: behind). It moves the
    /// five-minute signature window, the <c>Date</c> response header and the timestamps the emulator records.</summary>
    public TimeSpan ClockSkew
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _clockSkewTicks));
        set => Volatile.Write(ref _clockSkewTicks, value.Ticks);
    }

    /// <summary>The faults of one region the emulator serves: they meet only requests signed for that region.</summary>
    /// <exception cref="ArgumentException">The emulator does not serve <paramref name="region"/>.</exception>
    public FaultRules ForRegion(string region)
    {
        ArgumentException.ThrowIfNullOrEmpty(region);
        return _regions.GetValueOrDefault(region)
            ?? throw new ArgumentException($"The emulator does not serve the region '{region}': list it in AwsEmulatorOptions.AdditionalRegions.", nameof(region));
    }

    /// <inheritdoc/>
    public override void ClearQuotas()
    {
        base.ClearQuotas();
        foreach (var region in _regions.Values)
        {
            region.ClearQuotas();
        }
    }

    /// <inheritdoc/>
    public override void ClearFailures()
    {
        base.ClearFailures();
        foreach (var region in _regions.Values)
        {
            region.ClearFailures();
        }
    }

    /// <inheritdoc/>
    public override void Clear()
    {
        base.Clear();
        foreach (var region in _regions.Values)
        {
            region.Clear();
        }

        ClockSkew = TimeSpan.Zero;
    }

    /// <summary>The latency of a request signed for <paramref name="region"/> (null or unknown: the global latency only).</summary>
    internal TimeSpan LatencyFor(string? region) => Latency + (Scope(region)?.Latency ?? TimeSpan.Zero);

    internal bool TryTakeReset(string region, string operation)
    {
        lock (Sync)
        {
            return Scope(region)?.TakeReset(operation) == true || TakeReset(operation);
        }
    }

    internal FaultRule? TryTakeFailure(string region, string operation)
    {
        lock (Sync)
        {
            return Scope(region)?.TakeFailure(operation) ?? TakeFailure(operation);
        }
    }

    /// <summary>Takes a token from every quota covering the request (global and regional), or none when any of them is empty.</summary>
    internal bool TryAcquireQuota(string region, string operation)
    {
        lock (Sync)
        {
            var buckets = QuotasCovering(operation).Concat(Scope(region)?.QuotasCovering(operation) ?? []).ToList();
            if (!buckets.TrueForAll(b => b.HasToken()))
            {
                return false;
            }

            buckets.ForEach(b => b.Take());
            return true;
        }
    }

    private FaultRules? Scope(string? region) => region is null ? null : _regions.GetValueOrDefault(region);
}

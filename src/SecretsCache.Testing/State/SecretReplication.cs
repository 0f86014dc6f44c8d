namespace SecretsCache.Testing.State;

/// <summary>
/// The Secrets Manager stores of every region, under one lock, and the copies on their way from primaries to replicas.
/// Every write to a primary schedules a full image of the secret for each of its replicas; an image lands once
/// <see cref="Lag"/> has passed on the emulator's clock (at once when the lag is zero), the next time any store is used,
/// so a test clock decides exactly when a replica catches up. A newer image to a replica supersedes older pending ones.
/// </summary>
internal sealed class SecretReplication(TimeProvider time)
{
    private readonly Dictionary<string, EmulatedSecretStore> _stores = new(StringComparer.Ordinal);
    private readonly List<PendingCopy> _pending = [];
    private long _lagTicks;
    private long _sequence;

    /// <summary>The one lock of every region's store: a write and its replication are one atomic step.</summary>
    public object Lock { get; } = new();

    /// <summary>How long a write to a primary takes to reach its replicas, on the emulator's <see cref="TimeProvider"/>.</summary>
    public TimeSpan Lag
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _lagTicks));
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            Volatile.Write(ref _lagTicks, value.Ticks);
        }
    }

    /// <summary>Registers a region's store; only while the emulator is being built.</summary>
    public void Add(string region, EmulatedSecretStore store) => _stores.Add(region, store);

    /// <summary>The store of a region the emulator serves, else null.</summary>
    public EmulatedSecretStore? Store(string region) => _stores.GetValueOrDefault(region);

    /// <summary>Sends the primary's current image towards one replica. The caller holds <see cref="Lock"/>.</summary>
    public void Schedule(string primaryRegion, SecretRecord primary, ReplicaLink link)
    {
        if (link.Status == ReplicaLink.Failed)
        {
            return;
        }

        var copy = new PendingCopy(++_sequence, time.GetTimestamp(), Lag, primaryRegion, link, SecretImage.Of(primary));
        if (copy.Lag > TimeSpan.Zero)
        {
            _pending.Add(copy);
            return;
        }

        Cancel(link);
        Apply(copy);
    }

    /// <summary>Forgets every copy still on its way to this replica (it was removed or promoted). The caller holds <see cref="Lock"/>.</summary>
    public void Cancel(ReplicaLink link) => _pending.RemoveAll(p => p.Link == link);

    /// <summary>Lands every copy whose lag has passed: per replica, the newest due one. The caller holds <see cref="Lock"/>.</summary>
    public void ApplyDue()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        var now = time.GetTimestamp();
        var due = _pending.Where(p => time.GetElapsedTime(p.ScheduledAt, now) >= p.Lag).ToList();
        foreach (var newest in due.GroupBy(p => p.Link).Select(g => g.MaxBy(p => p.Sequence)!))
        {
            _pending.RemoveAll(p => p.Link == newest.Link && p.Sequence <= newest.Sequence);
            Apply(newest);
        }
    }

    private void Apply(PendingCopy copy) =>
        _stores[copy.Link.Region].ReceiveReplica(copy.PrimaryRegion, copy.Link, copy.Image);

    private sealed record PendingCopy(long Sequence, long ScheduledAt, TimeSpan Lag, string PrimaryRegion, ReplicaLink Link, SecretImage Image);
}

/// <summary>What a replica receives of its primary: everything but the primary's KMS key and access dates.</summary>
internal sealed record SecretImage(
    string Name,
    string ArnTail,
    string? Description,
    IReadOnlyList<KeyValuePair<string, string>> Tags,
    DateTimeOffset LastChangedDate,
    IReadOnlyList<VersionImage> Versions)
{
    /// <summary>A deep copy of the record (the caller holds the lock); <see cref="ArnTail"/> is <c>NAME-AbCdEf</c>.</summary>
    public static SecretImage Of(SecretRecord record) => new(
        record.Name,
        record.Arn[(record.Arn.IndexOf(":secret:", StringComparison.Ordinal) + ":secret:".Length)..],
        record.Description,
        [.. record.Tags],
        record.LastChangedDate,
        record.Versions.Select(v => new VersionImage(v.VersionId, v.SecretString, v.SecretBinary?.ToArray(), v.CreatedDate, [.. v.Stages])).ToList());

    /// <summary>Makes <paramref name="replica"/> hold this image's metadata and versions.</summary>
    public void CopyTo(SecretRecord replica)
    {
        replica.Description = Description;
        replica.LastChangedDate = LastChangedDate;
        replica.Tags.Clear();
        replica.Tags.AddRange(Tags);
        replica.Versions.Clear();
        foreach (var image in Versions)
        {
            var version = new SecretVersion(image.VersionId, image.SecretString, image.SecretBinary?.ToArray(), image.CreatedDate);
            version.Stages.AddRange(image.Stages);
            replica.Versions.Add(version);
        }
    }
}

/// <summary>One version as it was when its secret's image was taken.</summary>
internal sealed record VersionImage(string VersionId, string? SecretString, byte[]? SecretBinary, DateTimeOffset CreatedDate, IReadOnlyList<string> Stages);

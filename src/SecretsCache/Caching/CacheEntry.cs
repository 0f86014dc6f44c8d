using System.Diagnostics;
using System.Runtime.ExceptionServices;
using SecretsCache.Diagnostics;

namespace SecretsCache.Caching;

/// <summary>
/// The state of one reference. Readers take snapshots of the volatile fields; writers change them under <see cref="Gate"/>.
/// Kept small (the size bound multiplies it): what most entries never need (a failure, change tokens, the announced version,
/// more than one alias, the stale-log clock) lives in <see cref="EntrySide"/>, made on first use, and the parsed reference
/// is dropped once a value is stored (a refresh parses the index key again).
/// </summary>
internal sealed class CacheEntry
{
    public const int MaxAliases = 16;

    /// <summary>The entry's own key in the index: its plain name or its canonical text, whichever it was first read by (<see cref="IndexKeys"/>).</summary>
    public readonly string IndexKey;

    private SecretReference? _reference;
    private EntrySide? _side;
    private string? _alias;

    /// <summary>The one fetch under way for this key (single-flight). Guarded by <see cref="Gate"/>.</summary>
    public Task<Secret>? InFlight;

    private readonly EntryTags _tags;
    private volatile CachedValue? _value;

    /// <summary>
    /// This entry's cell in the engine's <see cref="UseStamps"/>: when it was last read, watched or inserted, for the size
    /// bound (CacheEngine.Eviction.cs). Copied into its index slots, so a hit notes its use without reading the entry.
    /// </summary>
    public readonly int Use;

    public volatile bool Evicted;

    public CacheEntry(string indexKey, SecretReference reference, EntryTags tags, int use)
    {
        IndexKey = indexKey;
        _reference = reference;
        _tags = tags;
        Use = use;
    }

    /// <summary>The canonical text, as logs, errors, events and the fleet name the key; made again for a plain name (off the hit path).</summary>
    public string Key => IndexKeys.CanonicalOf(IndexKey);

    public SecretReference Reference => _reference ?? SecretReference.Parse(IndexKey);

    /// <summary>The metric tags of this entry, built once (and shared by entries alike) so a hit allocates nothing.</summary>
    public ref readonly TagList Tags => ref _tags.Tags;

    /// <summary>
    /// The last good value; kept while it can still be served stale. Set only through the engine's <c>SetValue</c>, which
    /// also replaces the entry's index slots (what a hit reads).
    /// </summary>
    public CachedValue? Value
    {
        get => _value;
        set
        {
            _value = value;
            _reference = null; // the canonical text holds the same reference, and the entry no longer waits on a first fetch
        }
    }

    /// <summary>The last failure, while the key backs off (or a cached not-found).</summary>
    public FailureState? Failure
    {
        get => SideIfAny?.Failure;
        set
        {
            if (value is not null || SideIfAny is not null)
            {
                Side.Failure = value;
            }
        }
    }

    /// <summary>The cached secret, if it is fresh and not yet due for a refresh at <paramref name="now"/> (a hit's test, from the entry).</summary>
    public Secret? FreshAt(long now) => IndexSlot.Of(this).FreshAt(now);

    /// <summary>An object no one else locks: the entry itself.</summary>
    public object Gate => this;

    /// <summary>The state few entries need, made on first use.</summary>
    public EntrySide Side => _side ?? CreateSide();

    /// <summary>The side state if it was ever made, without making it.</summary>
    public EntrySide? SideIfAny => Volatile.Read(ref _side);

    /// <summary>True when <paramref name="indexKey"/> is this entry's own key in the index, not one of its aliases.</summary>
    public bool IsKey(string indexKey) => ReferenceEquals(indexKey, IndexKey) || string.Equals(indexKey, IndexKey, StringComparison.Ordinal);

    /// <summary>Records another text that reaches this entry; false when it is known or the list is full. Under <see cref="Gate"/>.</summary>
    public bool TryAddAlias(string text)
    {
        if (_alias is null)
        {
            _alias = text;
            return true;
        }

        if (string.Equals(_alias, text, StringComparison.Ordinal))
        {
            return false;
        }

        var more = Side.MoreAliases ??= new List<string>(1);
        if (more.Count + 1 >= MaxAliases || more.Contains(text))
        {
            return false;
        }

        more.Add(text);
        return true;
    }

    /// <summary>The first text other than <see cref="Key"/> that reaches this entry, if any. Under <see cref="Gate"/>.</summary>
    public string? FirstAlias => _alias;

    /// <summary>The texts beyond <see cref="FirstAlias"/> that reach this entry, if any. Under <see cref="Gate"/>.</summary>
    public List<string>? MoreAliases => _side?.MoreAliases;

    private EntrySide CreateSide()
    {
        var side = new EntrySide();
        return Interlocked.CompareExchange(ref _side, side, null) ?? side;
    }
}

/// <summary>The state of an entry that most entries never need. Made on first use; released with its entry.</summary>
internal sealed class EntrySide
{
    /// <summary>The last failure, while the key backs off (or a cached not-found).</summary>
    public volatile FailureState? Failure;

    /// <summary>The source of the change tokens handed out since the last version change, if any. Guarded by the entry's gate.</summary>
    public CancellationTokenSource? Changes;

    /// <summary>The version last announced as a change, so racing stores of one version announce it once.</summary>
    public string? AnnouncedVersion;

    /// <summary>When serving stale was last logged for this entry (engine clock), so an outage logs once per interval, not per read.</summary>
    public long LastStaleLog = long.MinValue;

    /// <summary>Aliases beyond the first. Guarded by the entry's gate.</summary>
    public List<string>? MoreAliases;
}

/// <summary>
/// An entry's metric tags. Without names in telemetry the tags depend only on the kind of reference, so entries share one
/// of three instances; with names each entry has its own.
/// </summary>
internal sealed class EntryTags
{
    private static readonly EntryTags Secret = new(TelemetryTags.For(SecretReference.Parse("sm:x"), includeName: false));
    private static readonly EntryTags Parameter = new(TelemetryTags.For(SecretReference.Parse("ssm:/x"), includeName: false));
    private static readonly EntryTags Passthrough = new(TelemetryTags.For(SecretReference.Parse("/aws/reference/secretsmanager/x"), includeName: false));

    private EntryTags(TagList tags) => Tags = tags;

    public readonly TagList Tags;

    public static EntryTags For(SecretReference reference, bool includeName) =>
        includeName ? new EntryTags(TelemetryTags.For(reference, includeName: true))
        : reference.IsPassthrough ? Passthrough
        : reference.Store == SecretStore.SecretsManager ? Secret
        : Parameter;
}

/// <summary>An immutable snapshot of a cached value and the timestamps (in <see cref="TimeProvider"/> ticks) that govern it.</summary>
internal sealed record CachedValue(Secret Secret, long FetchedAt, long RefreshAt, long ExpiresAt, long StaleUntil);

/// <summary>An immutable snapshot of a key's failure: the error, how many in a row, and when the key may be fetched again.</summary>
internal sealed record FailureState(ExceptionDispatchInfo Error, int ConsecutiveFailures, long RetryAt, bool IsNotFound);

namespace SecretsCache.Caching;

/// <summary>
/// When each entry was last used (read, watched or inserted), by the engine's use clock: one <see cref="int"/> per entry in
/// one array, each entry holding its own cell (<see cref="CacheEntry.Use"/>, copied into its index slots). A hit notes its
/// use here rather than in the entry, so it reads the index's node and a dense array that stays in the processor's caches,
/// and not the entry itself. Cells are handed out and taken back with their entries; the array grows (doubling, under a
/// lock) when every cell is held. A note written to the array a growth has just replaced is lost: the size bound's choice
/// is approximate anyway.
/// </summary>
internal sealed class UseStamps
{
    private readonly object _gate = new();
    private readonly Stack<int> _free = new();
    private int[] _stamps = new int[64];
    private int _next;

    /// <summary>A cell for a new entry, stamped <paramref name="now"/>.</summary>
    public int Allocate(int now)
    {
        lock (_gate)
        {
            if (!_free.TryPop(out var cell))
            {
                if (_next == _stamps.Length)
                {
                    var grown = new int[_stamps.Length * 2];
                    _stamps.CopyTo(grown, 0);
                    Volatile.Write(ref _stamps, grown);
                }

                cell = _next++;
            }

            _stamps[cell] = now;
            return cell;
        }
    }

    /// <summary>Gives back the cell of an entry that has left the index (or never entered it).</summary>
    public void Release(int cell)
    {
        lock (_gate)
        {
            _free.Push(cell);
        }
    }

    /// <summary>
    /// Notes a use at <paramref name="now"/>. Written only when the use clock moved since (it moves once per insert, not per
    /// read), so hits on a cache that is not churning write nothing.
    /// </summary>
    public void Touch(int cell, int now)
    {
        var stamps = Volatile.Read(ref _stamps);
        if (stamps[cell] != now)
        {
            stamps[cell] = now;
        }
    }

    /// <summary>How many use-clock ticks ago the cell was last used (the clock may wrap; ages stay right).</summary>
    public long Age(int cell, int now) => unchecked((uint)(now - Volatile.Read(ref _stamps)[cell]));

    /// <summary>Cells handed out and not given back (for tests of the bound).</summary>
    internal int InUse
    {
        get
        {
            lock (_gate)
            {
                return _next - _free.Count;
            }
        }
    }
}

namespace SecretsCache.Restore;

/// <summary>
/// The provider's randomness (TTL and backoff jitter, retry jitter, the phases of fleet-share token buckets): a generator of
/// its own, thread-safe, that <see cref="Reseed"/> replaces with one seeded from the operating system's entropy. After a
/// snapshot restore every execution environment holds the same generator state, <see cref="Random.Shared"/>'s included, and
/// that one cannot be seeded again; this one can.
/// </summary>
/// <remarks>Jitter, not security: a draw is needed only on a fetch, a failure or a new bucket, never on a hit, so a lock is cheap.</remarks>
#pragma warning disable CA5394 // Jitter, not security.
internal sealed class ReseedableRandom : Random
{
    private readonly object _gate = new();
    private Random _generator;
    private int _reseeds;

    /// <param name="seeded">The generator to start from (tests: a seeded one, standing for the state in a snapshot); one seeded from the operating system's entropy when <see langword="null"/>.</param>
    public ReseedableRandom(Random? seeded = null) => _generator = seeded ?? new Random();

    /// <summary>How many times <see cref="Reseed"/> ran.</summary>
    public int Reseeds => Volatile.Read(ref _reseeds);

    /// <summary>Replaces the generator with one seeded from the operating system's entropy, read now.</summary>
    public void Reseed()
    {
        var fresh = new Random();
        lock (_gate)
        {
            _generator = fresh;
        }

        Interlocked.Increment(ref _reseeds);
    }

    public override double NextDouble()
    {
        lock (_gate)
        {
            return _generator.NextDouble();
        }
    }

    public override int Next()
    {
        lock (_gate)
        {
            return _generator.Next();
        }
    }

    public override int Next(int maxValue)
    {
        lock (_gate)
        {
            return _generator.Next(maxValue);
        }
    }

    public override int Next(int minValue, int maxValue)
    {
        lock (_gate)
        {
            return _generator.Next(minValue, maxValue);
        }
    }

    public override long NextInt64()
    {
        lock (_gate)
        {
            return _generator.NextInt64();
        }
    }

    public override long NextInt64(long maxValue)
    {
        lock (_gate)
        {
            return _generator.NextInt64(maxValue);
        }
    }

    public override long NextInt64(long minValue, long maxValue)
    {
        lock (_gate)
        {
            return _generator.NextInt64(minValue, maxValue);
        }
    }

    public override float NextSingle()
    {
        lock (_gate)
        {
            return _generator.NextSingle();
        }
    }

    public override void NextBytes(byte[] buffer)
    {
        lock (_gate)
        {
            _generator.NextBytes(buffer);
        }
    }

    public override void NextBytes(Span<byte> buffer)
    {
        lock (_gate)
        {
            _generator.NextBytes(buffer);
        }
    }

    protected override double Sample() => NextDouble();
}
#pragma warning restore CA5394

namespace SecretsCache.Redis.Lease;

/// <summary>
/// Fetches that no caller waits on (refresh-aheads, and re-reads after a backplane message) go through the fleet-wide
/// single-flight in waves, not one by one. A fleet's instances refresh a shared key at the same moment (the fleet's
/// schedule), so an instance's keys come due together: one by one, each cost a read-and-lease, a lease, a wait and a
/// second read, tens of thousands of round trips a second for a dense fleet. A wave takes each of those steps once for all
/// its keys (<see cref="FleetSingleFlight.GetOrFetchManyAsync"/>). A wave starts at once when no other is in its Redis
/// steps, so a lone refresh waits for nothing; what comes due while one is in them joins the next, which starts when they
/// end. The slower Redis answers, the larger the waves, and the fewer the round trips.
/// </summary>
internal sealed class SingleFlightWaves(FleetSingleFlight singleFlight)
{
    private readonly object _gate = new();
    private List<(FleetFetch Fetch, TaskCompletionSource<FleetRead?> Done)> _next = [];
    private bool _stepping;
    private long _started;

    /// <summary>Waves started so far.</summary>
    internal long Started => Interlocked.Read(ref _started);

    /// <summary>Fetches waiting for the next wave.</summary>
    internal int Queued
    {
        get
        {
            lock (_gate)
            {
                return _next.Count;
            }
        }
    }

    /// <summary>
    /// <paramref name="fetch"/>'s outcome, from the wave it joins: null when it was deferred (<see cref="FleetFetch.MayDefer"/>).
    /// Its own token ends its wait (and its fetch, if this instance makes it); the wave's other keys go on.
    /// </summary>
    public Task<FleetRead?> JoinAsync(FleetFetch fetch)
    {
        var done = new TaskCompletionSource<FleetRead?>(TaskCreationOptions.RunContinuationsAsynchronously);
        List<(FleetFetch, TaskCompletionSource<FleetRead?>)>? wave = null;
        lock (_gate)
        {
            _next.Add((fetch, done));
            if (!_stepping)
            {
                _stepping = true;
                (wave, _next) = (_next, []);
            }
        }

        if (wave is not null)
        {
            _ = RunAsync(wave);
        }

        return done.Task.WaitAsync(fetch.CancellationToken);
    }

    private async Task RunAsync(List<(FleetFetch Fetch, TaskCompletionSource<FleetRead?> Done)> wave)
    {
        Interlocked.Increment(ref _started);
        var stepped = 0;
        void StepsDone()
        {
            if (Interlocked.Exchange(ref stepped, 1) == 0)
            {
                StartNext();
            }
        }

        try
        {
            // The shared steps are bounded by the operation timeout; each key's own token bounds its fetch and its wait. Each
            // key is answered as soon as its outcome is known, not when the wave's slowest key is.
            var outcomes = await singleFlight.GetOrFetchManyAsync(
                [.. wave.Select(w => w.Fetch)], CancellationToken.None, StepsDone, (i, outcome) => Answer(wave[i].Done, outcome)).ConfigureAwait(false);
            for (var i = 0; i < wave.Count; i++)
            {
                Answer(wave[i].Done, outcomes[i]);
            }
        }
        catch (Exception ex)
        {
            foreach (var (_, done) in wave)
            {
                done.TrySetException(ex);
            }
        }
        finally
        {
            StepsDone();
            foreach (var (_, done) in wave)
            {
                _ = done.Task.Exception; // observed: a fetch whose caller stopped waiting may still fail
            }
        }
    }

    private static void Answer(TaskCompletionSource<FleetRead?> done, FleetOutcome outcome)
    {
        if (outcome.Error is { } error)
        {
            done.TrySetException(error.SourceException);
        }
        else if (outcome.Read is { } read)
        {
            done.TrySetResult(read);
        }
        else if (outcome.Deferred)
        {
            done.TrySetResult(null);
        }
        else
        {
            done.TrySetException(new InvalidOperationException("The single-flight produced no outcome."));
        }
    }

    private void StartNext()
    {
        List<(FleetFetch, TaskCompletionSource<FleetRead?>)> wave;
        lock (_gate)
        {
            if (_next.Count == 0)
            {
                _stepping = false;
                return;
            }

            (wave, _next) = (_next, []);
        }

        _ = Task.Run(() => RunAsync(wave)); // off the finishing wave's continuation, which goes on to its fetches
    }
}

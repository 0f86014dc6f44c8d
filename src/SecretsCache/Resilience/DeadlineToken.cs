namespace SecretsCache.Resilience;

/// <summary>
/// A token cancelled when an outer token is, or when a timeout passes on the provider's <see cref="TimeProvider"/>, whichever
/// comes first: an attempt's (<see cref="AwsOptions.AttemptTimeout"/> inside the call's token) and a fetch's
/// (<see cref="SecretsCacheOptions.FetchTimeout"/> inside the engine's disposal). One linked source does both, rather than a
/// timeout source and a second source linking it to the outer one, because every miss makes one of each.
/// </summary>
internal readonly struct DeadlineToken : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly ITimer? _timer;

    public DeadlineToken(TimeSpan timeout, TimeProvider time, CancellationToken outerToken)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(outerToken);
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        if (time == TimeProvider.System)
        {
            _source.CancelAfter(timeout); // the runtime's own timer, as new CancellationTokenSource(timeout, TimeProvider.System) uses
        }
        else
        {
            _timer = time.CreateTimer(static state => Cancel((CancellationTokenSource)state!), _source, timeout, Timeout.InfiniteTimeSpan);
        }
    }

    public CancellationToken Token => _source.Token;

    /// <summary>True when this token is cancelled and <paramref name="outerToken"/> (the one it was made inside) is not: the timeout passed.</summary>
    public bool TimedOut(CancellationToken outerToken) => _source.IsCancellationRequested && !outerToken.IsCancellationRequested;

    public void Dispose()
    {
        _timer?.Dispose();
        _source.Dispose();
    }

    private static void Cancel(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The token's user finished as its timer fired.
        }
    }
}

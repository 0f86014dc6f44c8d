namespace SecretsCache.Aws.Protocol;

/// <summary>
/// One attempt's token: cancelled when the call's token is, or when <see cref="AwsOptions.AttemptTimeout"/> passes on the
/// provider's <see cref="TimeProvider"/>, whichever comes first. One linked source does both (rather than a timeout source
/// and a second source linking it to the call's), because every attempt of every fetch makes one.
/// </summary>
internal readonly struct AttemptToken : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly ITimer? _timer;

    public AttemptToken(TimeSpan timeout, TimeProvider time, CancellationToken callToken)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(callToken);
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
            // The attempt ended as its timer fired.
        }
    }
}

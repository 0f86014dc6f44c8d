namespace SecretsCache.IntegrationTests.Provider.Support;

/// <summary>
/// Sits between the provider and the socket: counts every HTTP attempt the client makes (including ones the emulator
/// never answers), and lets a test act just before an attempt is sent or just after an answer arrives.
/// </summary>
public sealed class CountingHandler : DelegatingHandler
{
    private int _sent;

    public CountingHandler()
        : base(new SocketsHttpHandler())
    {
    }

    /// <summary>How many requests the client sent.</summary>
    public int Sent => Volatile.Read(ref _sent);

    /// <summary>Called with the attempt number (1-based) before that attempt is sent.</summary>
    public Action<int>? BeforeSend { get; set; }

    /// <summary>Called with each answer (its content buffered, so the client can still read it).</summary>
    public Func<HttpResponseMessage, Task>? AfterReceive { get; set; }

    public HttpClient CreateClient() => new(this, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var attempt = Interlocked.Increment(ref _sent);
        BeforeSend?.Invoke(attempt);
        var response = await base.SendAsync(request, cancellationToken);
        if (AfterReceive is { } after)
        {
#if NET9_0_OR_GREATER
            await response.Content.LoadIntoBufferAsync(cancellationToken);
#else
            await response.Content.LoadIntoBufferAsync();
#endif
            await after(response);
        }

        return response;
    }
}

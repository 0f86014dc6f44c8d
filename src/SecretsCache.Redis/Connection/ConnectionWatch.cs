using StackExchange.Redis;

namespace SecretsCache.Redis.Connection;

/// <summary>
/// Whether the connection is known to be down now (StackExchange.Redis has no connected server), and a signal for each
/// reconnect. While it is down a call is skipped at once instead of being sent to fail: it costs nobody a timeout, and it
/// does not feed the breaker, whose pause would otherwise outlast the outage.
/// </summary>
internal sealed class ConnectionWatch : IDisposable
{
    private readonly IConnectionMultiplexer _multiplexer;
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConnectionWatch(IConnectionMultiplexer multiplexer)
    {
        _multiplexer = multiplexer;
        multiplexer.ConnectionRestored += OnRestored;
    }

    /// <summary>Raised (on StackExchange.Redis's thread) when a connection of any kind is made again after it failed.</summary>
    public event Action? Restored;

    /// <summary>True while no server is connected (after a failure, or before the first connect).</summary>
    public bool IsDown => !_multiplexer.IsConnected;

    /// <summary>Completes at the next <see cref="Restored"/>; read it before checking the state it waits for.</summary>
    public Task NextRestore => Volatile.Read(ref _next).Task;

    public void Dispose() => _multiplexer.ConnectionRestored -= OnRestored;

    private void OnRestored(object? sender, ConnectionFailedEventArgs e)
    {
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        Restored?.Invoke();
    }
}

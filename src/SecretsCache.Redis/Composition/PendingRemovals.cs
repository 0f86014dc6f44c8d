using System.Collections.Concurrent;

namespace SecretsCache.Redis.Composition;

/// <summary>
/// Removals of second-level entries under way (an <c>Invalidate</c> or <c>InvalidateAll</c> here): a read of such a key
/// waits for its removal first, so the value just invalidated is not read back from Redis. Each removal is bounded by the
/// Redis guard's timeout.
/// </summary>
internal sealed class PendingRemovals
{
    private readonly ConcurrentDictionary<string, Task> _keys = new(StringComparer.Ordinal);
    private volatile Task _all = Task.CompletedTask;

    public void Add(string canonicalKey, Task removal)
    {
        _keys[canonicalKey] = removal;
        _ = removal.ContinueWith(
            static (done, state) =>
            {
                var (keys, key) = ((ConcurrentDictionary<string, Task>, string))state!;
                keys.TryRemove(new KeyValuePair<string, Task>(key, done));
            },
            (_keys, canonicalKey), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public void AddAll(Task removal) => _all = removal;

    public ValueTask WaitAsync(string canonicalKey, CancellationToken cancellationToken)
    {
        var all = _all;
        if (all.IsCompleted && (_keys.IsEmpty || !_keys.TryGetValue(canonicalKey, out var removal)))
        {
            return default;
        }

        return new ValueTask(Task.WhenAll(all, _keys.GetValueOrDefault(canonicalKey) ?? Task.CompletedTask).WaitAsync(cancellationToken));
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace SecretsCache.Rotation;

/// <summary>
/// Turns the engine's version changes into <see cref="ISecretProvider.SecretChanged"/> events and change tokens. Each version
/// change is announced once, however many callers shared the fetch that saw it (and even if two stores race with the same
/// version). Handlers run on the thread that stored the value, before the fetch's waiters resume, so a handler that resets a
/// connection pool has done so by the time a retried operation runs. A handler that throws is logged and ignored.
/// </summary>
internal sealed class SecretChangeNotifier(object sender, ILogger logger)
{
    private const string NoVersion = "";

    // Canonical key -> the version last announced, so a change is announced once.
    private readonly ConcurrentDictionary<string, string> _announced = new(StringComparer.Ordinal);

    // Canonical key -> the source behind the change tokens handed out since the last change.
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _tokens = new(StringComparer.Ordinal);

    public event EventHandler<SecretChangedEventArgs>? Changed;

    public (int ChangeTokens, int AnnouncedVersions) Sizes => (_tokens.Count, _announced.Count);

    /// <summary>A token that fires at the next version change of <paramref name="key"/> (a canonical reference text).</summary>
    public IChangeToken GetChangeToken(string key)
    {
        var source = _tokens.GetOrAdd(key, static _ => new CancellationTokenSource());
        return new CancellationChangeToken(source.Token);
    }

    /// <summary>Subscribed to the engine's <c>VersionChanged</c>. Never throws: it runs inside the engine's store of a fetched value.</summary>
    public void OnVersionChanged(SecretReference reference, Secret previous, Secret current)
    {
        var key = reference.CanonicalText;
        if (!TryClaim(key, current.Version ?? NoVersion))
        {
            return;
        }

        var args = new SecretChangedEventArgs(key, previous.Version, current.Version);
        if (Changed is { } handlers)
        {
            foreach (var handler in handlers.GetInvocationList())
            {
                try
                {
                    ((EventHandler<SecretChangedEventArgs>)handler)(sender, args);
                }
                catch (Exception ex)
                {
                    RotationLog.ChangeHandlerFailed(logger, key, ex);
                }
            }
        }

        // Tokens handed out from now on belong to the next change; the current ones fire once.
        if (_tokens.TryRemove(key, out var source))
        {
            try
            {
                source.Cancel();
            }
            catch (AggregateException ex)
            {
                RotationLog.ChangeHandlerFailed(logger, key, ex);
            }

            // Not disposed: a consumer may still register on a token of this source, which must then fire at once.
        }
    }

    /// <summary>Records <paramref name="version"/> as announced for <paramref name="key"/>; false when it already was.</summary>
    private bool TryClaim(string key, string version)
    {
        while (true)
        {
            if (_announced.TryGetValue(key, out var last))
            {
                if (string.Equals(last, version, StringComparison.Ordinal))
                {
                    return false;
                }

                if (_announced.TryUpdate(key, version, last))
                {
                    return true;
                }
            }
            else if (_announced.TryAdd(key, version))
            {
                return true;
            }
        }
    }
}

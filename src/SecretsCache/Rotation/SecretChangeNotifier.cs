using Microsoft.Extensions.Logging;

namespace SecretsCache.Rotation;

/// <summary>
/// Turns the engine's version changes into <see cref="ISecretProvider.SecretChanged"/> events. The engine announces each
/// change once, however many callers shared the fetch that saw it (and even if two stores race with the same version), and
/// fires the change tokens after these handlers (<c>CacheEngine.Changes.cs</c>). Handlers run on the thread that stored the
/// value, before the fetch's waiters resume, so a handler that resets a connection pool has done so by the time a retried
/// operation runs. A handler that throws is logged and ignored.
/// </summary>
internal sealed class SecretChangeNotifier(object sender, ILogger logger)
{
    public event EventHandler<SecretChangedEventArgs>? Changed;

    /// <summary>Subscribed to the engine's <c>VersionChanged</c>. Never throws: it runs inside the engine's store of a fetched value.</summary>
    public void OnVersionChanged(SecretReference reference, Secret previous, Secret current)
    {
        if (Changed is not { } handlers)
        {
            return;
        }

        var key = reference.CanonicalText;
        var args = new SecretChangedEventArgs(key, previous.Version, current.Version);
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
}

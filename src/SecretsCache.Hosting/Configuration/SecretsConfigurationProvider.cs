using Microsoft.Extensions.Configuration;

namespace SecretsCache.Hosting.Configuration;

/// <summary>
/// Loads secrets and Parameter Store paths into configuration, then re-reads them on a timer and raises a reload only when
/// a value changed, so <c>IOptionsMonitor&lt;T&gt;</c> sees rotated values without a restart.
/// </summary>
internal sealed class SecretsConfigurationProvider : ConfigurationProvider, IDisposable
{
    private readonly SecretsConfigurationOptions _options;
    private readonly ISecretProvider _provider;
    private readonly SecretProvider? _owned;
    private readonly object _timerGate = new();
    private ITimer? _timer;
    private bool _stopped;
    private int _reloading;
    private int _disposed;
    private int _adopted;
    private int _reloadChecks;

    public SecretsConfigurationProvider(SecretsConfigurationOptions options, ISecretProvider provider, SecretProvider? owned)
    {
        _options = options;
        _provider = provider;
        _owned = owned;

        // Whoever disposes the built provider (this source, or the container that adopted it), the reload timer stops first.
        owned?.Disposing.Register(static state => ((SecretsConfigurationProvider)state!).StopReloading(), this);
    }

    /// <summary>
    /// The provider this source built (not one it was given), which the container adopts: one cache, one quota share. Until
    /// then this source owns it and disposes it; once adopted (<see cref="Adopt"/>), only the container does.
    /// </summary>
    public SecretProvider? Owned => _owned;

    /// <summary>The container takes the built provider: from now on it is the one owner that disposes it.</summary>
    public SecretProvider? Adopt()
    {
        if (_owned is not null)
        {
            Volatile.Write(ref _adopted, 1);
        }

        return _owned;
    }

    /// <summary>The section the built provider's options came from.</summary>
    public string SectionName => _options.SectionName;

    /// <summary>Completed reload checks (changed or not); for tests and diagnostics.</summary>
    public int ReloadChecks => Volatile.Read(ref _reloadChecks);

    /// <summary>The last reload failure (value-free), or <see langword="null"/> when the last check succeeded.</summary>
    public Exception? LastReloadError { get; private set; }

    /// <exception cref="SecretsConfigurationException">A required secret or path could not be loaded; the message names it.</exception>
    public override void Load()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        // Configuration loading is synchronous; the provider awaits with ConfigureAwait(false), and Task.Run keeps any
        // caller's synchronization context out of it.
        Data = Task.Run(() => ReadAsync(CancellationToken.None)).GetAwaiter().GetResult();
        var interval = _options.ReloadInterval;
        lock (_timerGate)
        {
            if (_timer is null && !_stopped && interval > TimeSpan.Zero && interval != Timeout.InfiniteTimeSpan)
            {
                _timer = _options.TimeProvider.CreateTimer(static state => ((SecretsConfigurationProvider)state!).OnTimer(), this, interval, interval);
            }
        }
    }

    /// <summary>Stops the reload timer and, unless a container adopted it, disposes the provider this source built.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            StopReloading();
            if (Volatile.Read(ref _adopted) == 0)
            {
                _owned?.Dispose();
            }
        }
    }

    private void StopReloading()
    {
        ITimer? timer;
        lock (_timerGate)
        {
            _stopped = true;
            (timer, _timer) = (_timer, null);
        }

        timer?.Dispose();
    }

    internal async Task<bool> ReloadAsync(CancellationToken cancellationToken)
    {
        var data = await ReadAsync(cancellationToken).ConfigureAwait(false);
        if (SameData(data, Data))
        {
            return false;
        }

        Data = data;
        OnReload();
        return true;
    }

    private void OnTimer()
    {
        if (Volatile.Read(ref _disposed) != 0 || Interlocked.Exchange(ref _reloading, 1) == 1)
        {
            return; // The previous check is still running.
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await ReloadAsync(CancellationToken.None).ConfigureAwait(false);
                LastReloadError = null;
            }
#pragma warning disable CA1031 // A failed check keeps the last good configuration and tries again next tick.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // A check that its provider's disposal cut short did not fail: the host is shutting down.
                if (_owned?.Disposing.IsCancellationRequested != true)
                {
                    LastReloadError = ex;
                }
            }
            finally
            {
                Interlocked.Increment(ref _reloadChecks);
                Volatile.Write(ref _reloading, 0);
            }
        });
    }

    private async Task<Dictionary<string, string?>> ReadAsync(CancellationToken cancellationToken)
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var secrets = _options.Secrets.Select(entry => ReadSecretAsync(entry, cancellationToken)).ToList();
        var paths = _options.Paths.Select(entry => ReadPathAsync(entry, cancellationToken)).ToList();
        foreach (var (entry, task) in _options.Secrets.Zip(secrets))
        {
            if (await task.ConfigureAwait(false) is { } secret)
            {
                ConfigurationKeys.Add(data, secret, entry.Key);
            }
        }

        foreach (var (entry, task) in _options.Paths.Zip(paths))
        {
            foreach (var (name, secret) in await task.ConfigureAwait(false))
            {
                data[ConfigurationKeys.Combine(entry.Prefix, ConfigurationKeys.FromParameterName(name, entry.Path))] = secret.GetString();
            }
        }

        return data;
    }

    private async Task<Secret?> ReadSecretAsync(SecretsConfigurationOptions.SecretEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            return await _provider.GetAsync(entry.Text, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretNotFoundException) when (entry.Optional)
        {
            return null;
        }
        catch (SecretsCacheException ex) when (ex is not SecretsConfigurationException)
        {
            var reason = ex is SecretNotFoundException ? "does not exist" : $"could not be read ({ex.ErrorCode ?? ex.GetType().Name})";
            throw new SecretsConfigurationException(
                $"The required configuration secret '{entry.Reference}' {reason}. Mark it optional to start without it.", ex);
        }
    }

    private async Task<IReadOnlyDictionary<string, Secret>> ReadPathAsync(SecretsConfigurationOptions.PathEntry entry, CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<string, Secret> parameters;
        try
        {
            parameters = await _provider.GetPathAsync(entry.Path, entry.Recursive, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretsCacheException ex) when (entry.Optional && ex is not SecretsConfigurationException)
        {
            return new Dictionary<string, Secret>();
        }
        catch (SecretsCacheException ex) when (ex is not SecretsConfigurationException)
        {
            throw new SecretsConfigurationException(
                $"The required Parameter Store path '{entry.Path}' could not be read ({ex.ErrorCode ?? ex.GetType().Name}). Mark it optional to start without it.", ex);
        }

        if (parameters.Count == 0 && !entry.Optional)
        {
            throw new SecretsConfigurationException(
                $"The required Parameter Store path '{entry.Path}' has no parameters. Mark it optional to start without them.");
        }

        return parameters;
    }

    private static bool SameData(Dictionary<string, string?> next, IDictionary<string, string?> current) =>
        next.Count == current.Count
        && next.All(pair => current.TryGetValue(pair.Key, out var value) && string.Equals(value, pair.Value, StringComparison.Ordinal));
}

using Microsoft.Extensions.Logging;
using SecretsCache.Redis.Diagnostics;

namespace SecretsCache.Redis.Encryption;

/// <summary>
/// Where the key ring comes from: bytes given in code, or a Secrets Manager secret whose AWSCURRENT version seals and whose
/// AWSPREVIOUS version still opens. The secret is read through a provider that has no second level, so IAM on that one
/// secret decides who can read the namespace. An envelope under an unknown key id (another instance rotated first) reloads
/// the secret, at most once per <see cref="RedisL2Options.KeyReloadInterval"/>. Until a first load succeeds there is no ring
/// and the second level answers every read with a miss.
/// </summary>
internal sealed class EncryptionKeys : IDisposable
{
    private const string Previous = "?stage=AWSPREVIOUS";
    private readonly string _namespace;
    private readonly string? _secret;
    private readonly ISecretProvider? _provider;
    private readonly TimeProvider _time;
    private readonly TimeSpan _reloadInterval;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private volatile KeyRing? _ring;
    private long _lastReload = long.MinValue;

    private EncryptionKeys(string @namespace, KeyRing? ring, string? secret, ISecretProvider? provider, TimeSpan reloadInterval, TimeProvider time, ILogger logger)
    {
        _namespace = @namespace;
        _ring = ring;
        _secret = secret;
        _provider = provider;
        _reloadInterval = reloadInterval;
        _time = time;
        _logger = logger;
    }

    /// <summary>The ring in use, or null while the key secret could not be read yet.</summary>
    public KeyRing? Ring => _ring;

    public static EncryptionKeys FromBytes(string @namespace, ReadOnlySpan<byte> current, IEnumerable<ReadOnlyMemory<byte>> previous, ILogger logger) =>
        new(@namespace, KeyRing.Create(@namespace, current, previous), null, null, TimeSpan.MaxValue, TimeProvider.System, logger);

    /// <summary>Loads the ring from <paramref name="secret"/>; a failure is logged and leaves no ring (every read a miss), never thrown.</summary>
    public static async Task<EncryptionKeys> FromSecretAsync(
        string @namespace, string secret, ISecretProvider provider, TimeSpan reloadInterval, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var keys = new EncryptionKeys(@namespace, null, secret, provider, reloadInterval, time, logger);
        await keys.ReloadAsync(force: false, cancellationToken).ConfigureAwait(false);
        return keys;
    }

    /// <summary>
    /// An envelope was sealed under <paramref name="keyId"/>, unknown here: reload the secret in the background unless a
    /// reload ran within the reload interval.
    /// </summary>
    public void OnUnknownKey(ulong keyId)
    {
        if (_provider is null || !DueForReload())
        {
            return;
        }

        RedisLog.UnknownKey(_logger, keyId);
        _ = ReloadAsync(force: true, CancellationToken.None);
    }

    /// <summary>Reads the key secret's AWSCURRENT and AWSPREVIOUS versions again (forced: past the provider's cache) and swaps the ring.</summary>
    public async Task<bool> ReloadAsync(bool force, CancellationToken cancellationToken)
    {
        if (_provider is null || _secret is null)
        {
            return false;
        }

        await _reloading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!force)
            {
                Interlocked.Exchange(ref _lastReload, _time.GetTimestamp());
            }

            var current = await ReadKeyAsync(_secret, force, required: true, cancellationToken).ConfigureAwait(false);
            var previous = await ReadKeyAsync(_secret + Previous, force, required: false, cancellationToken).ConfigureAwait(false);
            var ring = KeyRing.Create(_namespace, current!, previous is null ? [] : [previous]);
            _ring = ring;
            RedisLog.KeysLoaded(_logger, ring.Current.Id, ring.All.Count - 1);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (SecretsCacheException ex)
        {
            RedisLog.KeyReloadFailed(_logger, ex.ErrorCode ?? ex.GetType().Name);
            return false;
        }
        finally
        {
            _reloading.Release();
        }
    }

    public void Dispose() => _reloading.Dispose();

    /// <summary>A key from a secret's value: exactly 32 bytes, binary or base64 text. The message never quotes the value.</summary>
    internal static byte[] ParseKey(Secret secret, string reference)
    {
        byte[]? key = null;
        if (secret.IsBinary)
        {
            key = secret.GetBytes().ToArray();
        }
        else
        {
            var text = secret.GetString().Trim();
            var buffer = new byte[RedisL2Options.KeyLength];
            if (Convert.TryFromBase64String(text, buffer, out var written) && written == RedisL2Options.KeyLength)
            {
                key = buffer;
            }
        }

        return key is { Length: RedisL2Options.KeyLength }
            ? key
            : throw new SecretFormatException(
                $"The encryption key secret '{reference}' must hold a {RedisL2Options.KeyLength}-byte key: binary, or as base64 text.", reference);
    }

    private async Task<byte[]?> ReadKeyAsync(string reference, bool force, bool required, CancellationToken cancellationToken)
    {
        try
        {
            var secret = force
                ? await _provider!.RefreshAsync(reference, cancellationToken).ConfigureAwait(false)
                : await _provider!.GetAsync(reference, cancellationToken).ConfigureAwait(false);
            return ParseKey(secret, reference);
        }
        catch (SecretNotFoundException) when (!required)
        {
            return null; // No AWSPREVIOUS: the key never rotated.
        }
    }

    /// <summary>Claims the next reload: true for one caller per reload interval.</summary>
    private bool DueForReload()
    {
        var last = Interlocked.Read(ref _lastReload);
        return (last == long.MinValue || _time.GetElapsedTime(last) >= _reloadInterval)
            && Interlocked.CompareExchange(ref _lastReload, _time.GetTimestamp(), last) == last;
    }
}

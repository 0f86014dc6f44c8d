using Microsoft.Extensions.Logging;
using SecretsCache.Redis.Diagnostics;

namespace SecretsCache.Redis.Encryption;

/// <summary>
/// Where the key ring comes from: bytes given in code, or a Secrets Manager secret whose AWSCURRENT version seals and whose
/// AWSPREVIOUS version still opens. The secret is read through a provider that has no second level, so IAM on that one
/// secret decides who can read the namespace. It is read again every <see cref="RedisL2Options.KeyReloadInterval"/>
/// (through the provider's cache), and at once, past that cache, when a message or an entry names a key id this instance
/// lacks (another instance rotated first), at most once per interval. Until a first load succeeds there is no ring and the
/// second level answers every read with a miss.
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
    private ITimer? _timer;
    private volatile KeyRing? _ring;
    private long _lastForcedReload = long.MinValue;

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
        keys._timer = time.CreateTimer(static state => _ = ((EncryptionKeys)state!).ReloadAsync(force: false, CancellationToken.None), keys, reloadInterval, reloadInterval);
        return keys;
    }

    /// <summary>
    /// Something was sealed under <paramref name="keyId"/>, unknown here: reload the secret past the provider's cache, in the
    /// background, unless such a reload ran within the reload interval.
    /// </summary>
    public void OnUnknownKey(ulong keyId)
    {
        if (_provider is null || !ClaimForcedReload())
        {
            return;
        }

        RedisLog.UnknownKey(_logger, keyId);
        _ = ReloadAsync(force: true, CancellationToken.None);
    }

    /// <summary>Reads the key secret's AWSCURRENT and AWSPREVIOUS versions (forced: past the provider's cache) and swaps the ring. Never throws but for the caller's cancellation.</summary>
    public async Task<bool> ReloadAsync(bool force, CancellationToken cancellationToken)
    {
        if (_provider is null || _secret is null)
        {
            return false;
        }

        try
        {
            await _reloading.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        try
        {
            var current = await ReadKeyAsync(_secret, force, required: true, cancellationToken).ConfigureAwait(false);
            // A new current key means a rotation: AWSPREVIOUS moved too, and the provider may still hold its old answer
            // (a cached not-found, before the first rotation), so it is read past the cache.
            var rotated = _ring is { } known && known.Current.Id != new RingKey(_namespace, current).Id;
            var previous = await ReadKeyAsync(_secret + Previous, force || rotated, required: false, cancellationToken).ConfigureAwait(false);
            var ring = KeyRing.Create(_namespace, current!, previous is null ? [] : [previous]);
            if (_ring?.Current.Id != ring.Current.Id || _ring.All.Count != ring.All.Count)
            {
                RedisLog.KeysLoaded(_logger, ring.Current.Id, ring.All.Count - 1);
            }

            _ring = ring;
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A failed reload keeps the keys in use (or none): the second level misses, callers never see it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RedisLog.KeyReloadFailed(_logger, ex is SecretsCacheException { ErrorCode: { } code } ? code : ex.GetType().Name);
            return false;
        }
        finally
        {
            _reloading.Release();
        }
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _reloading.Dispose();
    }

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

    /// <summary>Claims the next forced reload: true for one caller per reload interval.</summary>
    private bool ClaimForcedReload() => OncePerInterval.Claim(ref _lastForcedReload, _reloadInterval, _time);
}

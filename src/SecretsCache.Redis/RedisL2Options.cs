using System.Text.RegularExpressions;
using SecretsCache.Redis.Connection;
using StackExchange.Redis;

namespace SecretsCache.Redis;

/// <summary>
/// Settings of the Redis second level: where Redis is, the namespace, where the encryption key comes from, the lease, the
/// fleet-wide rate limit and the circuit breaker. Every default is safe for production; see docs/fleet.md.
/// </summary>
public sealed partial class RedisL2Options
{
    /// <summary>The length of an encryption key: 32 bytes (AES-256).</summary>
    public const int KeyLength = 32;

    /// <summary>
    /// Where Redis is: a <c>redis://[user:password@]host[:port][/db]</c> or <c>rediss://…</c> (TLS) URI, or a
    /// StackExchange.Redis configuration string (<c>host:6379,ssl=true</c>). Required.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>The Redis ACL user, if not given in <see cref="Configuration"/>.</summary>
    public string? User { get; set; }

    /// <summary>The Redis password, if not given in <see cref="Configuration"/> or <see cref="PasswordSecret"/>.</summary>
    public string? Password { get; set; }

    /// <summary>A secret reference (<c>redis/app-password</c>, <c>ssm:/app/redis</c>) whose value is the Redis password, read at connection time.</summary>
    public string? PasswordSecret { get; set; }

    /// <summary>
    /// The namespace of this application's entries (letters, digits, <c>.</c>, <c>_</c>, <c>-</c>; at most 64). Every Redis key
    /// and channel starts with <c>sc:{Namespace}:</c>, so an ACL can confine the application to it. One namespace serves one
    /// application under one IAM role (docs/fleet.md). Required.
    /// </summary>
    public string Namespace { get; set; } = string.Empty;

    /// <summary>
    /// A Secrets Manager secret holding the encryption key (32 bytes: a binary secret, or the key in base64). Its AWSCURRENT
    /// version encrypts; its AWSPREVIOUS version still decrypts, so the key can rotate. Read from AWS directly, never through
    /// Redis. Either this or <see cref="EncryptionKey"/>.
    /// </summary>
    public string? EncryptionKeySecret { get; set; }

    /// <summary>The encryption key itself (32 bytes), when it is given in code. Either this or <see cref="EncryptionKeySecret"/>.</summary>
    public ReadOnlyMemory<byte> EncryptionKey { get; set; }

    /// <summary>Earlier keys (32 bytes each) that still decrypt entries written before a rotation; nothing is encrypted with them.</summary>
    public IList<ReadOnlyMemory<byte>> PreviousEncryptionKeys { get; } = new List<ReadOnlyMemory<byte>>();

    /// <summary>
    /// How often <see cref="EncryptionKeySecret"/> is read again (through its provider's cache), and the least time between two
    /// reads past that cache, which happen when a message names a key this instance does not have yet (another instance
    /// rotated first). Default 30 seconds.
    /// </summary>
    public TimeSpan KeyReloadInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long an instance holds the fleet-wide lease of one key while it fetches from AWS. A holder that dies loses it after
    /// this. Default 10 seconds.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the other instances wait without word from the holder before fetching themselves. A holder still fetching says
    /// so every half of this, and each word starts the wait again; a dead one says nothing. Default 2 seconds.
    /// </summary>
    public TimeSpan LeaseWaitTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How far apart the clocks of two instances may be. A backplane message or lease result is applied only within this much
    /// of its send time, either way, and only once (its random id is remembered that long), so one that Redis, or a client
    /// allowed to publish on the namespace's channels, delivers again is dropped. Raise it only for a fleet whose clocks are
    /// not synchronized that closely (a message from an instance further off is dropped, with a warning). Between 1 second
    /// and 10 minutes; default 30 seconds.
    /// </summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The budget of one Redis call; a slower call counts as a miss (and as a failure for the breaker). When the process itself
    /// is busy (its thread pool behind), a call may be given up to twice this again before it is judged, and a miss that took
    /// that long is not counted by the breaker. Default 250 ms.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// By what fraction of the TTL a value shared through Redis is refreshed, for the whole fleet, by the one instance that
    /// takes its lease. It replaces <see cref="SecretsCacheOptions.RefreshAheadFraction"/> (and its random jitter) for shared
    /// values: every instance derives the same moment from the key, between <c>2 × fraction − 1</c> and <c>fraction</c> of
    /// the TTL, so keys fetched together do not come due together, and a secret costs about 1.08 AWS fetches per TTL at the
    /// default whatever the fleet's size. Values read while Redis is down, and the key and password secrets, keep the
    /// provider's own schedule. Above 0 and at most 1 (1: no refresh ahead); default 0.95.
    /// </summary>
    public double RefreshAheadFraction { get; set; } = 0.95;

    /// <summary>How long one connection attempt may take. Reconnecting is automatic. Default 5 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The fleet-wide token buckets that hold the whole fleet to the AWS quotas.</summary>
    public RedisFleetRateLimitOptions FleetRateLimits { get; } = new();

    /// <summary>The circuit breaker that stops calls to a failing Redis.</summary>
    public RedisCircuitBreakerOptions CircuitBreaker { get; } = new();

    /// <summary>
    /// Adjusts StackExchange.Redis's options after these settings are applied: a certificate validation callback for a
    /// private CA, a client certificate, a tunnel.
    /// </summary>
    public Action<ConfigurationOptions>? ConfigureConnection { get; set; }

    /// <summary>Lists what is wrong with these settings; empty when they are valid. No message quotes a password or a key.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Configuration))
        {
            errors.Add($"{nameof(Configuration)} is required (a redis:// or rediss:// URI, or a StackExchange.Redis configuration string).");
        }
        else if (RedisConfiguration.Check(Configuration) is { } problem)
        {
            errors.Add($"{nameof(Configuration)} {problem}");
        }

        if (!NamespacePattern().IsMatch(Namespace ?? string.Empty))
        {
            errors.Add($"{nameof(Namespace)} must be 1 to 64 letters, digits, '.', '_' or '-'.");
        }

        if (Password is not null && PasswordSecret is not null)
        {
            errors.Add($"Give {nameof(Password)} or {nameof(PasswordSecret)}, not both.");
        }

        CheckReference(errors, PasswordSecret, nameof(PasswordSecret));
        var hasSecret = !string.IsNullOrEmpty(EncryptionKeySecret);
        if (hasSecret == !EncryptionKey.IsEmpty)
        {
            errors.Add($"Give exactly one of {nameof(EncryptionKeySecret)} and {nameof(EncryptionKey)}.");
        }

        CheckReference(errors, EncryptionKeySecret, nameof(EncryptionKeySecret));
        if (hasSecret && SecretReference.TryParse(EncryptionKeySecret, out var keyReference)
            && (keyReference.Store != SecretStore.SecretsManager || keyReference.VersionStage is not null || keyReference.VersionId is not null))
        {
            errors.Add($"{nameof(EncryptionKeySecret)} must name a Secrets Manager secret without a stage or version (its AWSCURRENT and AWSPREVIOUS versions are read).");
        }

        if (!EncryptionKey.IsEmpty && EncryptionKey.Length != KeyLength)
        {
            errors.Add($"{nameof(EncryptionKey)} must be {KeyLength} bytes, not {EncryptionKey.Length}.");
        }

        for (var i = 0; i < PreviousEncryptionKeys.Count; i++)
        {
            if (PreviousEncryptionKeys[i].Length != KeyLength)
            {
                errors.Add($"{nameof(PreviousEncryptionKeys)}[{i}] must be {KeyLength} bytes, not {PreviousEncryptionKeys[i].Length}.");
            }
        }

        RequireBetween(errors, KeyReloadInterval, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), nameof(KeyReloadInterval));
        RequireBetween(errors, LeaseDuration, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1), nameof(LeaseDuration));
        RequireBetween(errors, LeaseWaitTimeout, TimeSpan.Zero, TimeSpan.FromHours(1), nameof(LeaseWaitTimeout));
        if (LeaseWaitTimeout > LeaseDuration)
        {
            errors.Add($"{nameof(LeaseWaitTimeout)} must be at most {nameof(LeaseDuration)}: a waiter would outwait a lease that no one holds.");
        }

        RequireBetween(errors, MaxClockSkew, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10), nameof(MaxClockSkew));
        RequireBetween(errors, OperationTimeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1), nameof(OperationTimeout));
        if (!(RefreshAheadFraction > 0 && RefreshAheadFraction <= 1))
        {
            errors.Add($"{nameof(RefreshAheadFraction)} must be above 0 and at most 1.");
        }

        RequireBetween(errors, ConnectTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(5), nameof(ConnectTimeout));
        FleetRateLimits.Validate(errors);
        CircuitBreaker.Validate(errors);
        return errors;
    }

    internal void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new SecretsConfigurationException("Invalid SecretsCache.Redis options: " + string.Join(" ", errors));
        }
    }

    internal static void RequireBetween(List<string> errors, TimeSpan value, TimeSpan min, TimeSpan max, string name)
    {
        if (value < min || value > max)
        {
            errors.Add($"{name} must be between {min} and {max}.");
        }
    }

    private static void CheckReference(List<string> errors, string? reference, string name)
    {
        if (reference is not null && !SecretReference.TryParse(reference, out _))
        {
            errors.Add($"{name} is not a valid secret reference.");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamespacePattern();
}

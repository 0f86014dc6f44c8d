namespace SecretsCache.Hosting;

/// <summary>What <see cref="Microsoft.Extensions.Configuration.SecretsCacheConfigurationExtensions.AddSecretsCache(Microsoft.Extensions.Configuration.IConfigurationBuilder, Action{SecretsConfigurationOptions})"/> loads into configuration, and how it reloads.</summary>
public sealed class SecretsConfigurationOptions
{
    private readonly List<SecretEntry> _secrets = [];
    private readonly List<PathEntry> _paths = [];

    /// <summary>How often the loaded references and paths are read again through the provider (cache hits until their TTL runs out). Default 1 minute; <see cref="TimeSpan.Zero"/> or <see cref="Timeout.InfiniteTimeSpan"/> turns reloading off.</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The clock of the reload timer and, when this source builds its own provider, of that provider. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>A provider to read through. When <see langword="null"/>, one is built (and disposed with the configuration) from the <see cref="SectionName"/> section of the configuration built so far, then <see cref="ConfigureProvider"/>.</summary>
    public ISecretProvider? Provider { get; set; }

    /// <summary>The section the built provider's options are read from. Default <c>SecretsCache</c>.</summary>
    public string SectionName { get; set; } = Microsoft.Extensions.DependencyInjection.SecretsCacheServiceCollectionExtensions.DefaultSectionName;

    /// <summary>Changes the built provider's options after binding, for example to set credentials (which configuration cannot hold).</summary>
    public Action<SecretsCacheOptions>? ConfigureProvider { get; set; }

    internal IReadOnlyList<SecretEntry> Secrets => _secrets;

    internal IReadOnlyList<PathEntry> Paths => _paths;

    /// <summary>
    /// Loads one secret or parameter. A JSON object is flattened under <paramref name="key"/> (<c>{"Db":{"User":"a"}}</c> gives
    /// <c>Db:User</c>; arrays give <c>A:0</c>); at the root when <paramref name="key"/> is <see langword="null"/>. Any other value
    /// becomes the single key <paramref name="key"/>, by default the name with <c>/</c> turned into <c>:</c>.
    /// </summary>
    /// <param name="reference">Any reference text, for example <c>app/db</c> or <c>ssm:/app/prod/api-key</c>.</param>
    /// <param name="key">The configuration key (JSON: the prefix) to load under.</param>
    /// <param name="optional">When true, a secret that does not exist is skipped; otherwise start-up fails naming it.</param>
    /// <exception cref="ArgumentException">The reference is malformed.</exception>
    public SecretsConfigurationOptions AddSecret(string reference, string? key = null, bool optional = false)
    {
        var parsed = SecretReference.Parse(reference);
        _secrets.Add(new SecretEntry(reference, parsed, NormalizeKey(key), optional));
        return this;
    }

    /// <summary>
    /// Loads every parameter under a Parameter Store path: the path is stripped and <c>/</c> becomes <c>:</c>, so
    /// <c>/app/prod/Db/Password</c> under <c>/app/prod/</c> is <c>Db:Password</c> (<c>PREFIX:Db:Password</c> with a <paramref name="prefix"/>).
    /// </summary>
    /// <param name="path">The path, for example <c>/app/prod/</c>.</param>
    /// <param name="prefix">A configuration key to load under; the root when <see langword="null"/>.</param>
    /// <param name="optional">When true, an empty path is allowed and a failed read keeps the app starting; otherwise both fail start-up.</param>
    /// <param name="recursive">Whether to read parameters below sub-paths too. Default true.</param>
    public SecretsConfigurationOptions AddParameterPath(string path, string? prefix = null, bool optional = false, bool recursive = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException($"The Parameter Store path '{path}' must start with '/'.", nameof(path));
        }

        _paths.Add(new PathEntry(path.EndsWith('/') ? path : path + "/", NormalizeKey(prefix), optional, recursive));
        return this;
    }

    private static string? NormalizeKey(string? key) => string.IsNullOrWhiteSpace(key) ? null : key.Trim(':');

    internal sealed record SecretEntry(string Text, SecretReference Reference, string? Key, bool Optional);

    internal sealed record PathEntry(string Path, string? Prefix, bool Optional, bool Recursive);
}

using Microsoft.Extensions.Configuration;

namespace SecretsCache.Redis.DependencyInjection;

/// <summary>
/// Binds a <c>SecretsCache:Redis</c> section onto <see cref="RedisL2Options"/> with the configuration binding source generator
/// (AOT-safe), through <see cref="RedisL2Settings"/>, which has only what configuration may set. Key material is refused:
/// the encryption key comes from a secret (<see cref="RedisL2Options.EncryptionKeySecret"/>) or from code.
/// </summary>
internal static class RedisL2OptionsBinder
{
    private static readonly string[] KeyMaterial = [nameof(RedisL2Options.EncryptionKey), nameof(RedisL2Options.PreviousEncryptionKeys)];
    private static readonly string[] CodeOnly = [nameof(RedisL2Options.ConfigureConnection)];

    /// <exception cref="SecretsConfigurationException">The section holds key material or a code-only hook, or a value does not parse (named by its path, never by its value).</exception>
    public static void Bind(IConfigurationSection section, RedisL2Options options)
    {
        foreach (var child in section.GetChildren())
        {
            if (KeyMaterial.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                throw new SecretsConfigurationException(
                    $"'{child.Path}': an encryption key cannot come from configuration; name a Secrets Manager secret in EncryptionKeySecret, or set EncryptionKey in code.");
            }

            if (CodeOnly.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                throw new SecretsConfigurationException($"'{child.Path}' can only be set in code.");
            }
        }

        var settings = new RedisL2Settings();
        try
        {
            section.Bind(settings, static o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException)
        {
            // The binder's message quotes the value, which may be a password: each key is named by its path instead.
            var problems = Problems(section);
            throw new SecretsConfigurationException(problems.Count > 0
                ? $"Invalid SecretsCache.Redis configuration: {string.Join(" ", problems)}"
                : $"'{section.Path}' holds a key that is not a Redis option, or a value that does not parse.");
        }

        settings.ApplyTo(options);
    }

    /// <summary>Every key of <paramref name="section"/> that does not bind on its own, by path and never by value.</summary>
    private static List<string> Problems(IConfigurationSection section)
    {
        var problems = new List<string>();
        foreach (var (path, value) in section.AsEnumerable())
        {
            if (value is null || path.Length <= section.Path.Length)
            {
                continue;
            }

            try
            {
                new ConfigurationBuilder().AddInMemoryCollection([new(path[(section.Path.Length + 1)..], value)]).Build()
                    .Bind(new RedisL2Settings(), static o => o.ErrorOnUnknownConfiguration = true);
            }
            catch (InvalidOperationException ex)
            {
                problems.Add(ex.InnerException is null
                    ? $"'{path}' is not a Redis option (see docs/fleet.md)."
                    : $"'{path}' does not parse as that option's type.");
            }
        }

        return problems;
    }
}

/// <summary>What configuration may set of <see cref="RedisL2Options"/>: everything but key material and code-only hooks.</summary>
internal sealed class RedisL2Settings
{
    public string? Configuration { get; set; }

    public string? User { get; set; }

    public string? Password { get; set; }

    public string? PasswordSecret { get; set; }

    public string? Namespace { get; set; }

    public string? EncryptionKeySecret { get; set; }

    public TimeSpan? KeyReloadInterval { get; set; }

    public TimeSpan? LeaseDuration { get; set; }

    public TimeSpan? LeaseWaitTimeout { get; set; }

    public TimeSpan? MaxClockSkew { get; set; }

    public TimeSpan? OperationTimeout { get; set; }

    public TimeSpan? ConnectTimeout { get; set; }

    public double? RefreshAheadFraction { get; set; }

    public FleetRateLimitSettings FleetRateLimits { get; set; } = new();

    public CircuitBreakerSettings CircuitBreaker { get; set; } = new();

    public void ApplyTo(RedisL2Options o)
    {
        o.Configuration = Configuration ?? o.Configuration;
        o.User = User ?? o.User;
        o.Password = Password ?? o.Password;
        o.PasswordSecret = PasswordSecret ?? o.PasswordSecret;
        o.Namespace = Namespace ?? o.Namespace;
        o.EncryptionKeySecret = EncryptionKeySecret ?? o.EncryptionKeySecret;
        o.KeyReloadInterval = KeyReloadInterval ?? o.KeyReloadInterval;
        o.LeaseDuration = LeaseDuration ?? o.LeaseDuration;
        o.LeaseWaitTimeout = LeaseWaitTimeout ?? o.LeaseWaitTimeout;
        o.MaxClockSkew = MaxClockSkew ?? o.MaxClockSkew;
        o.OperationTimeout = OperationTimeout ?? o.OperationTimeout;
        o.ConnectTimeout = ConnectTimeout ?? o.ConnectTimeout;
        o.RefreshAheadFraction = RefreshAheadFraction ?? o.RefreshAheadFraction;
        FleetRateLimits.ApplyTo(o.FleetRateLimits);
        CircuitBreaker.ApplyTo(o.CircuitBreaker);
    }

    internal sealed class FleetRateLimitSettings
    {
        public double? SecretsManagerRequestsPerSecond { get; set; }

        public double? SecretsManagerBatchRequestsPerSecond { get; set; }

        public double? ParameterStoreRequestsPerSecond { get; set; }

        public double? BurstSeconds { get; set; }

        public int? MaxBlock { get; set; }

        public TimeSpan? BlockLifetime { get; set; }

        public int? FallbackFleetSize { get; set; }

        public double? FallbackGrowthMargin { get; set; }

        public void ApplyTo(RedisFleetRateLimitOptions o)
        {
            o.SecretsManagerRequestsPerSecond = SecretsManagerRequestsPerSecond ?? o.SecretsManagerRequestsPerSecond;
            o.SecretsManagerBatchRequestsPerSecond = SecretsManagerBatchRequestsPerSecond ?? o.SecretsManagerBatchRequestsPerSecond;
            o.ParameterStoreRequestsPerSecond = ParameterStoreRequestsPerSecond ?? o.ParameterStoreRequestsPerSecond;
            o.BurstSeconds = BurstSeconds ?? o.BurstSeconds;
            o.MaxBlock = MaxBlock ?? o.MaxBlock;
            o.BlockLifetime = BlockLifetime ?? o.BlockLifetime;
            o.FallbackFleetSize = FallbackFleetSize ?? o.FallbackFleetSize;
            o.FallbackGrowthMargin = FallbackGrowthMargin ?? o.FallbackGrowthMargin;
        }
    }

    internal sealed class CircuitBreakerSettings
    {
        public double? FailureRatio { get; set; }

        public int? MinimumThroughput { get; set; }

        public TimeSpan? SamplingDuration { get; set; }

        public TimeSpan? BreakDuration { get; set; }

        public TimeSpan? FirstBreakDuration { get; set; }

        public void ApplyTo(RedisCircuitBreakerOptions o)
        {
            o.FailureRatio = FailureRatio ?? o.FailureRatio;
            o.MinimumThroughput = MinimumThroughput ?? o.MinimumThroughput;
            o.SamplingDuration = SamplingDuration ?? o.SamplingDuration;
            o.BreakDuration = BreakDuration ?? o.BreakDuration;
            o.FirstBreakDuration = FirstBreakDuration ?? o.FirstBreakDuration;
        }
    }
}

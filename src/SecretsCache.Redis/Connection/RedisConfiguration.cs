using System.Globalization;
using StackExchange.Redis;

namespace SecretsCache.Redis.Connection;

/// <summary>
/// Turns <see cref="RedisL2Options"/> into StackExchange.Redis options: a <c>redis://</c> / <c>rediss://</c> URI or a
/// configuration string, the ACL user and password, and the settings that make Redis never a new way to fail (no abort on
/// a failed first connect, fail fast instead of queueing while disconnected, no command details in exceptions).
/// </summary>
internal static class RedisConfiguration
{
    public const int DefaultPort = 6379;

    /// <summary>What is wrong with <paramref name="configuration"/>, or null. Never quotes it (it may hold a password).</summary>
    public static string? Check(string configuration)
    {
        try
        {
            Parse(configuration);
            return null;
        }
        catch (FormatException ex)
        {
            return ex.Message;
        }
    }

    public static ConfigurationOptions Build(RedisL2Options options, string? password)
    {
        var config = Parse(options.Configuration!);
        if (options.User is { Length: > 0 } user)
        {
            config.User = user;
        }

        if ((password ?? options.Password) is { } secret)
        {
            config.Password = secret;
        }

        config.AbortOnConnectFail = false;
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.IncludeDetailInExceptions = false;
        config.IncludePerformanceCountersInExceptions = false;
        config.ConnectTimeout = Milliseconds(options.ConnectTimeout);
        // StackExchange.Redis's own timeout only ends commands that would otherwise hang; callers stop waiting after OperationTimeout.
        config.AsyncTimeout = Math.Max(1_000, Milliseconds(options.OperationTimeout * 4));
        config.SyncTimeout = config.AsyncTimeout;
        config.ConnectRetry = 1;
        config.ReconnectRetryPolicy = new ExponentialRetry(250, 5_000);
        config.ClientName ??= "secretscache-" + options.Namespace;
        // StackExchange.Redis's own broadcast channel and tie-breaker key lie outside the namespace, where an ACL confined to
        // sc:{ns}:* refuses them.
        config.ConfigurationChannel = string.Empty;
        config.TieBreaker = string.Empty;
        options.ConfigureConnection?.Invoke(config);
        return config;
    }

    /// <summary>Parses a URI or a configuration string; a <see cref="FormatException"/> says what is wrong without quoting it.</summary>
    internal static ConfigurationOptions Parse(string configuration)
    {
        var text = configuration.Trim();
        if (text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            return ParseUri(text);
        }

        if (text.Contains("://", StringComparison.Ordinal))
        {
            throw new FormatException("has a URI scheme other than redis:// or rediss://.");
        }

        ConfigurationOptions parsed;
        try
        {
            parsed = ConfigurationOptions.Parse(text);
        }
        catch (ArgumentException)
        {
            // The library's message may quote the option, and so a password.
            throw new FormatException("is not a valid StackExchange.Redis configuration string.");
        }

        if (parsed.EndPoints.Count == 0)
        {
            throw new FormatException("names no Redis endpoint.");
        }

        return parsed;
    }

    private static ConfigurationOptions ParseUri(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException("is not a valid redis:// or rediss:// URI.");
        }

        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new FormatException("must not have a query or a fragment; set other options with ConfigureConnection.");
        }

        var config = new ConfigurationOptions { Ssl = uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase) };
        var host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host;
        config.EndPoints.Add(host, uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port);
        if (config.Ssl)
        {
            config.SslHost = host;
        }

        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            var user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon < 0)
            {
                // redis://secret@host is the password alone, as redis-cli reads it.
                config.Password = user;
            }
            else
            {
                config.User = user.Length > 0 ? user : null;
                config.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out var database) || database > 15_000)
            {
                throw new FormatException("has a path that is not a database number.");
            }

            config.DefaultDatabase = database;
        }

        return config;
    }

    private static int Milliseconds(TimeSpan value) => (int)Math.Clamp(Math.Ceiling(value.TotalMilliseconds), 1, int.MaxValue);
}

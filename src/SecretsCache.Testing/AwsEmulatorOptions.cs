using Microsoft.Extensions.Logging;

namespace SecretsCache.Testing;

/// <summary>How an <see cref="AwsEmulator"/> starts. Every member has a working default.</summary>
public sealed class AwsEmulatorOptions
{
    /// <summary>The default region: the one <see cref="EmulatorOptionsExtensions.UseEmulator"/> points a provider at and
    /// seeding methods write to unless told otherwise, and that its ARNs carry. Default <c>us-east-1</c>.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Other regions the emulator serves on the same endpoint, each with its own secrets and parameters; a
    /// request's region is its SigV4 credential scope's. They must be in <see cref="Region"/>'s partition. Default none:
    /// requests signed for any other region are refused.</summary>
    public IList<string> AdditionalRegions { get; } = [];

    /// <summary>The account id ARNs carry. Default <c>123456789012</c>.</summary>
    public string AccountId { get; set; } = "123456789012";

    /// <summary>The emulator's clock: signature windows, timestamps, latency and quota refills. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Kestrel's logging. Default null: no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The loopback port to listen on; 0 (the default) picks a free one.</summary>
    public int Port { get; set; }
}

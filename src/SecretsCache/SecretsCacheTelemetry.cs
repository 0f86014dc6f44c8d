namespace SecretsCache;

/// <summary>Names to subscribe to: <c>AddMeter(SecretsCacheTelemetry.MeterName)</c>, <c>AddSource(SecretsCacheTelemetry.ActivitySourceName)</c>.</summary>
public static class SecretsCacheTelemetry
{
    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> name: <c>SecretsCache</c>.</summary>
    public const string MeterName = "SecretsCache";

    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> name: <c>SecretsCache</c>.</summary>
    public const string ActivitySourceName = "SecretsCache";
}

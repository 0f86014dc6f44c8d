namespace SecretsCache.Testing;

/// <summary>A loopback emulator of AWS Secrets Manager and Parameter Store. (Being built: see issue "AWS".)</summary>
public sealed class AwsEmulator
{
}

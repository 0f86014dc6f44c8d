using SecretsCache.Redis.Connection;
using SecretsCache.Redis.Diagnostics;

namespace SecretsCache.Redis.Encryption;

/// <summary>
/// What one channel's receiver does with the verdict on a message from Redis: an authentic one passes only if it is fresh
/// and new (<see cref="ReplayGuard"/>, window <see cref="RedisL2Options.MaxClockSkew"/>); every rejection is logged (debug),
/// a key id this instance lacks makes it reload the key secret, and a stale message or one of the first format is also a
/// warning, at most every five minutes, since both mean a fleet whose instances do not hear each other.
/// </summary>
internal sealed class MessageScreen(RedisConnection connection, string channel)
{
    private static readonly TimeSpan WarningInterval = TimeSpan.FromMinutes(5);
    private readonly ReplayGuard _guard = new(connection.Time, connection.Options.MaxClockSkew);
    private long _lastStaleWarning = long.MinValue;
    private long _lastCrowdedWarning = long.MinValue;
    private long _lastFirstFormatWarning = long.MinValue;

    /// <summary>How many message ids are remembered now (at most <see cref="ReplayGuard.Capacity"/>).</summary>
    public int Remembered => _guard.Count;

    /// <summary>Whether a message <see cref="SealedMessage.Open"/> (and its body's parser) found as <paramref name="rejection"/> is to be applied.</summary>
    public bool Admit(MessageRejection rejection, in OpenedMessage opened)
    {
        if (rejection == MessageRejection.None)
        {
            rejection = _guard.Admit(opened.Stamp);
        }

        switch (rejection)
        {
            case MessageRejection.None:
                return true;
            case MessageRejection.UnknownKey:
                connection.Keys.OnUnknownKey(opened.KeyId); // Another instance already seals with a newer key.
                break;
            case MessageRejection.Stale when Claim(ref _lastStaleWarning):
                RedisLog.StaleMessage(connection.Logger, channel, (opened.Stamp.SentAtMs - connection.Time.GetUtcNow().ToUnixTimeMilliseconds()) / 1000.0, connection.Options.MaxClockSkew.TotalSeconds);
                break;
            case MessageRejection.Crowded when Claim(ref _lastCrowdedWarning):
                RedisLog.CrowdedMessages(connection.Logger, channel, ReplayGuard.Capacity);
                break;
            case MessageRejection.FirstFormat when Claim(ref _lastFirstFormatWarning):
                RedisLog.FirstFormatMessage(connection.Logger, channel);
                break;
        }

        RedisLog.MessageRejected(connection.Logger, channel, rejection.ToString());
        return false;
    }

    private bool Claim(ref long last) => OncePerInterval.Claim(ref last, WarningInterval, connection.Time);
}

using SecretsCache.Redis.Encryption;

namespace SecretsCache.Redis.Storage;

/// <summary>Why the second level did not answer a read. Each is a miss: the caller goes on to AWS.</summary>
internal enum L2MissReason
{
    None,
    Absent,
    Expired,
    Forged,
    UnknownKey,
    Malformed,
    VersionMismatch,

    /// <summary>Redis failed, was slow, or the breaker is open.</summary>
    Unavailable,

    /// <summary>No encryption key is loaded yet (the key secret could not be read).</summary>
    NoKey,
}

/// <summary>A read of the second level: an entry, or the reason there is none. Never an exception.</summary>
internal readonly record struct L2Read(L2Entry? Entry, L2MissReason Reason)
{
    public bool IsHit => Entry is not null;

    public static L2Read Miss(L2MissReason reason) => new(null, reason);

    public static string TagOf(L2MissReason reason) => reason switch
    {
        L2MissReason.Absent => "absent",
        L2MissReason.Expired => "expired",
        L2MissReason.Forged => "forged",
        L2MissReason.UnknownKey => "unknown_key",
        L2MissReason.Malformed => "malformed",
        L2MissReason.VersionMismatch => "version_mismatch",
        L2MissReason.Unavailable => "unavailable",
        L2MissReason.NoKey => "no_key",
        _ => "none",
    };

    internal static L2MissReason From(OpenFailure failure) => failure switch
    {
        OpenFailure.Expired => L2MissReason.Expired,
        OpenFailure.Forged => L2MissReason.Forged,
        OpenFailure.UnknownKey => L2MissReason.UnknownKey,
        OpenFailure.VersionMismatch => L2MissReason.VersionMismatch,
        _ => L2MissReason.Malformed,
    };
}

namespace SecretsCache.Diagnostics;

/// <summary>
/// The <see cref="SecretsCacheException.ErrorCode"/> of each time budget, so a user can tell which option to raise. All three
/// are <see cref="SecretServiceUnavailableException"/>, transient.
/// </summary>
internal static class TimeoutCodes
{
    /// <summary>The outer budget of one shared fetch or warm-up: <see cref="SecretsCacheOptions.FetchTimeout"/>.</summary>
    public const string FetchTimeout = "FetchTimeout";

    /// <summary>AWS answering and the retries of one call: <see cref="RetryOptions.TotalTimeout"/>.</summary>
    public const string RetryBudgetExhausted = "RetryBudgetExhausted";

    /// <summary>One HTTP attempt: <see cref="AwsOptions.AttemptTimeout"/>.</summary>
    public const string AttemptTimeout = "AttemptTimeout";
}

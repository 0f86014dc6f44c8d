namespace SecretsCache.Resilience;

/// <summary>Scaffold.</summary>
internal sealed class RetryQuota
{
    public const int Capacity = 500;
    public const int ThrottlingCost = 5;
    public const int TransientCost = 14;
    private int _available = Capacity;

    public int Available => _available;

    public static int CostOf(Exception error) => error is SecretThrottledException ? ThrottlingCost : TransientCost;

    public bool TryAcquire(int cost) => cost <= _available;

    public void Release(int cost) => _available += 0 * cost;
}

using SecretsCache.Aws.Endpoints;
using SecretsCache.Aws.Protocol;
using SecretsCache.Resilience;

namespace SecretsCache.Sources;

/// <summary>Whether a read could be answered soon, from what the client knows of each region the read may go to.</summary>
internal sealed partial class AwsSecretSource
{
    private readonly IReadOnlyList<string> _failoverRegions;

    /// <summary>
    /// True when the read's own region would keep it waiting for a token (a failover does not help: only an outage fails
    /// over), or is failing and so is every failover region of a Secrets Manager read. A failover region that neither fails
    /// nor queues means the read can be answered there.
    /// </summary>
    public bool CannotAnswerWithin(SecretReference reference, TimeSpan wait) => Cannot(reference, wait, countQueue: true);

    /// <summary>As <see cref="CannotAnswerWithin"/>, for failures alone: a rate-limit queue is not a failure.</summary>
    public bool KnownFailing(SecretReference reference) => Cannot(reference, TimeSpan.MaxValue, countQueue: false);

    private bool Cannot(SecretReference reference, TimeSpan wait, bool countQueue)
    {
        if (PrimaryRegion(reference) is not { } primary)
        {
            return false; // the read itself will say so
        }

        if (reference.Store == SecretStore.ParameterStore)
        {
            var parameters = _client.Outlook(AwsService.ParameterStore, primary, CallBudget.ParameterStore, wait);
            return parameters == RegionOutlook.Failing || (countQueue && parameters == RegionOutlook.Queued);
        }

        var outlook = _client.Outlook(AwsService.SecretsManager, primary, CallBudget.SecretsManager, wait);
        if (outlook != RegionOutlook.Failing)
        {
            return countQueue && outlook == RegionOutlook.Queued;
        }

        foreach (var region in RegionFailover.After(primary, _failoverRegions))
        {
            if (_client.Outlook(AwsService.SecretsManager, region, CallBudget.SecretsManager, wait) == RegionOutlook.Answers)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Completes at the next outage of the read's service in its own region or, for a Secrets Manager read, in any of its
    /// failover regions: whether that leaves no region to answer is for <see cref="CannotAnswerWithin"/> to say.
    /// </summary>
    public Task? NextOutage(SecretReference reference)
    {
        if (PrimaryRegion(reference) is not { } primary)
        {
            return null;
        }

        if (reference.Store == SecretStore.ParameterStore)
        {
            return _client.NextOutage(AwsService.ParameterStore, primary);
        }

        var own = _client.NextOutage(AwsService.SecretsManager, primary);
        var failovers = RegionFailover.After(primary, _failoverRegions);
        if (own is null || failovers.Count == 0)
        {
            return own;
        }

        var any = new List<Task>(failovers.Count + 1) { own };
        foreach (var region in failovers)
        {
            if (_client.NextOutage(AwsService.SecretsManager, region) is { } next)
            {
                any.Add(next);
            }
        }

        return Task.WhenAny(any);
    }

    private string? PrimaryRegion(SecretReference reference)
    {
        try
        {
            return reference.Region ?? _client.DefaultRegion;
        }
        catch (SecretsConfigurationException)
        {
            return null;
        }
    }
}

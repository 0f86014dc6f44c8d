using Polly;
using SecretsCache.Aws.Endpoints;
using SecretsCache.Resilience;

namespace SecretsCache.Aws.Protocol;

/// <summary>What a region is likely to do with a call sent now: answer, fail (an outage the client knows of), or keep it queued.</summary>
internal enum RegionOutlook
{
    Answers,
    Failing,
    Queued,
}

/// <summary>What the client already knows about a service and region before it sends anything: its breaker, its last attempt, its rate-limit queue.</summary>
internal sealed partial class AwsJsonClient
{
    private readonly ServiceHealth _health;

    /// <summary>
    /// <see cref="RegionOutlook.Failing"/> while the breaker of <paramref name="service"/> in <paramref name="region"/> is not
    /// closed or its last attempt was an outage; <see cref="RegionOutlook.Queued"/> when a request of <paramref name="budget"/>
    /// would have to wait for a rate-limit token (none is there now, or the estimate of the queue is at least
    /// <paramref name="wait"/>): the estimate counts only requests queued now, not the retries of those in flight, so it
    /// runs short in a recovery wave, and a stale reader does not wait for this instance's own throttle; else <see cref="RegionOutlook.Answers"/>, also
    /// when the question itself fails (a region the endpoint resolver refuses): the call will then say why.
    /// </summary>
    public RegionOutlook Outlook(AwsService service, string region, CallBudget budget, TimeSpan wait)
    {
        try
        {
            var signingRegion = Endpoint(service, region).SigningRegion;
            if (!_policy.Pipeline(service, signingRegion).BreakerClosed || _health.LastAttemptFailed(service, signingRegion))
            {
                return RegionOutlook.Failing;
            }

            var limiter = _policy.Limiter(budget, signingRegion);
            return !limiter.HasTokenNow || limiter.EstimatedWait >= wait ? RegionOutlook.Queued : RegionOutlook.Answers;
        }
#pragma warning disable CA1031 // A hint only: whatever fails here fails the call itself, with its own error.
        catch (Exception)
#pragma warning restore CA1031
        {
            return RegionOutlook.Answers;
        }
    }

    /// <summary>
    /// Completes at the next outage recorded for <paramref name="service"/> in <paramref name="region"/> (an attempt that
    /// failed as one, or its breaker opening), when <see cref="Outlook"/> may have turned to <see cref="RegionOutlook.Failing"/>;
    /// null when the question itself fails (the call will say why). Ask it before <see cref="Outlook"/>, so an outage recorded
    /// in between is not missed.
    /// </summary>
    public Task? NextOutage(AwsService service, string region)
    {
        try
        {
            return _health.NextOutage(service, Endpoint(service, region).SigningRegion);
        }
#pragma warning disable CA1031 // A hint only, as in Outlook.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    /// <summary>One attempt, its outcome recorded for <see cref="Outlook"/>.</summary>
    private async ValueTask<TResponse> RecordedAttemptAsync<TResponse>(Call<TResponse> call, ResilienceContext context)
    {
        try
        {
            var response = await AttemptAsync(call, context).ConfigureAwait(false);
            _health.Record(call.Service, call.Endpoint.SigningRegion, null);
            return response;
        }
        catch (Exception ex)
        {
            _health.Record(call.Service, call.Endpoint.SigningRegion, ex);
            throw;
        }
    }
}

using System.Text.Json;
using SecretsCache.Testing.State;

namespace SecretsCache.Testing.Operations;

/// <summary>
/// Every region the emulator serves, each with its own secrets and parameters. Secrets Manager's regions share one lock
/// and replicate to each other; Parameter Store has no replication, so its regions are independent.
/// </summary>
internal sealed class EmulatorState
{
    private readonly Dictionary<string, RegionState> _regions = new(StringComparer.Ordinal);

    /// <summary>The state of <paramref name="regions"/> (the default one first), empty.</summary>
    public EmulatorState(IReadOnlyList<string> regions, string accountId, Func<DateTimeOffset> clock, TimeProvider time)
    {
        Replication = new SecretReplication(time);
        Access = new AccessRules(regions);
        foreach (var region in regions)
        {
            var arns = new AwsArns(region, accountId);
            var secrets = new EmulatedSecretStore(arns, clock, Replication);
            Replication.Add(region, secrets);
            _regions.Add(region, new RegionState(arns, secrets, new ParameterStore(arns, clock), new RegionAccess(Access, region)));
        }

        Default = _regions[regions[0]];
        Regions = [.. regions];
    }

    public RegionState Default { get; }

    /// <summary>The default region first.</summary>
    public IReadOnlyList<string> Regions { get; }

    public SecretReplication Replication { get; }

    public AccessRules Access { get; }

    public RegionState? Find(string region) => _regions.GetValueOrDefault(region);

    /// <summary>The region whose secret or parameter ARN prefix <paramref name="arn"/> starts with, else null.</summary>
    public RegionState? OfArn(string arn) => arn.StartsWith("arn:", StringComparison.Ordinal)
        ? _regions.Values.FirstOrDefault(r => arn.StartsWith(r.Arns.SecretPrefix, StringComparison.Ordinal) || arn.StartsWith(r.Arns.ParameterPrefix + "/", StringComparison.Ordinal))
        : null;
}

/// <summary>One region's state: everything an operation handler may touch.</summary>
internal sealed record RegionState(AwsArns Arns, EmulatedSecretStore Secrets, ParameterStore Parameters, RegionAccess Access)
{
    public string Region => Arns.Region;
}

/// <summary>One request as an operation handler sees it: the state of the region it was signed for.</summary>
internal sealed record OperationContext(RegionState State, string Operation, string RequestId, JsonElement Input);

/// <summary>Handles one operation: reads the validated input, writes the output object's members.</summary>
internal delegate void OperationHandler(OperationContext context, Utf8JsonWriter output);

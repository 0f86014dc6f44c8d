using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using SecretsCache.Testing.Hosting;
using SecretsCache.Testing.Operations;
using SecretsCache.Testing.Protocol;
using SecretsCache.Testing.Signing;
using SecretsCache.Testing.State;

namespace SecretsCache.Testing;

/// <summary>
/// A loopback emulator of AWS Secrets Manager and Systems Manager Parameter Store for tests. It speaks the AWS JSON 1.1
/// protocol on <c>POST /</c> of <see cref="Endpoint"/>, verifies every request's SigV4 signature, validates bodies against
/// the AWS service models, and can inject throttling, failures, latency, connection resets and clock skew.
/// </summary>
/// <remarks>Sign requests with <see cref="AccessKeyId"/>/<see cref="SecretAccessKey"/> for one of <see cref="Regions"/>
/// and service <c>secretsmanager</c> or <c>ssm</c>; the credential scope's region chooses whose state answers. Seeding
/// methods change state directly with the same rules as the HTTP operations, and throw
/// <see cref="InvalidOperationException"/> (message starting with the AWS error code) where AWS would answer an error.
/// A seeding method's ARN names its region; a plain name is looked up in the method's <c>region</c> argument when it
/// has one, else in <see cref="Region"/>.</remarks>
public sealed partial class AwsEmulator : IAsyncDisposable
{
    private readonly LoopbackServer _server;
    private readonly EmulatorState _state;
    private readonly CredentialStore _credentials;
    private readonly CancellationTokenSource _stopping;

    private AwsEmulator(LoopbackServer server, EmulatorState state, CredentialStore credentials, EmulatorFaults faults, EmulatorRequestLog requests, CancellationTokenSource stopping)
    {
        _server = server;
        _state = state;
        _credentials = credentials;
        _stopping = stopping;
        Faults = faults;
        Requests = requests;
    }

    /// <summary><c>http://127.0.0.1:&lt;port&gt;/</c>: both services answer on it.</summary>
    public Uri Endpoint => _server.Endpoint;

    /// <summary>The default region (<see cref="AwsEmulatorOptions.Region"/>): the one <see cref="EmulatorOptionsExtensions.UseEmulator"/> points at.</summary>
    public string Region => _state.Default.Region;

    /// <summary>Every region served, <see cref="Region"/> first, then <see cref="AwsEmulatorOptions.AdditionalRegions"/>.</summary>
    public IReadOnlyList<string> Regions => _state.Regions;

    /// <summary>The account id in ARNs.</summary>
    public string AccountId => _state.Default.Arns.AccountId;

    /// <summary>The access key id of the credential pair the emulator always accepts.</summary>
    public string AccessKeyId { get; } = "AKIAIOSFODNN7EXAMPLE";

    /// <summary>The secret access key of the credential pair the emulator always accepts.</summary>
    public string SecretAccessKey { get; } = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    /// <summary>Fault injection: quotas, failures, latency, connection resets, clock skew.</summary>
    public EmulatorFaults Faults { get; }

    /// <summary>What reached the emulator, with exact counts.</summary>
    public EmulatorRequestLog Requests { get; }

    /// <summary>Starts the emulator on 127.0.0.1 (a free port unless <see cref="AwsEmulatorOptions.Port"/> says otherwise).</summary>
    public static async Task<AwsEmulator> StartAsync(AwsEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new AwsEmulatorOptions();
        ArgumentException.ThrowIfNullOrEmpty(options.Region);
        ArgumentException.ThrowIfNullOrEmpty(options.AccountId);
        ArgumentNullException.ThrowIfNull(options.TimeProvider);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Port);
        var regions = ServedRegions(options);

        var time = options.TimeProvider;
        var faults = new EmulatorFaults(time, regions);
        var requests = new EmulatorRequestLog();
        var state = new EmulatorState(regions, options.AccountId, () => time.GetUtcNow() + faults.ClockSkew, time);
        var credentials = new CredentialStore();
        var stopping = new CancellationTokenSource();
        var pipeline = new RequestPipeline(state, new RequestAuthenticator(credentials, regions), faults, requests, time, stopping.Token);
        try
        {
            var server = await LoopbackServer.StartAsync(options.Port, options.LoggerFactory ?? NullLoggerFactory.Instance, pipeline.HandleAsync, cancellationToken).ConfigureAwait(false);
            var emulator = new AwsEmulator(server, state, credentials, faults, requests, stopping);
            credentials.Add(new EmulatorCredential(emulator.AccessKeyId, emulator.SecretAccessKey, null));
            return emulator;
        }
        catch
        {
            stopping.Dispose();
            throw;
        }
    }

    /// <summary>Accepts another credential. With a <paramref name="sessionToken"/>, requests must send it as a signed <c>X-Amz-Security-Token</c> header.</summary>
    public void AddCredentials(string accessKeyId, string secretAccessKey, string? sessionToken = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(accessKeyId);
        ArgumentException.ThrowIfNullOrEmpty(secretAccessKey);
        _credentials.Add(new EmulatorCredential(accessKeyId, secretAccessKey, sessionToken));
    }

    /// <summary>Creates a secret in <paramref name="region"/> (default <see cref="Region"/>); with a value, its first version
    /// gets AWSCURRENT. Returns the ARN (<c>arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf</c>).</summary>
    /// <exception cref="ArgumentException">The emulator does not serve <paramref name="region"/>.</exception>
    public string CreateSecret(string name, string? secretString = null, byte[]? secretBinary = null, string? region = null) =>
        Seed(() => At(region).Secrets.Create(name, secretString, secretBinary).Arn);

    /// <summary>Adds a version with <paramref name="versionStages"/> (default AWSCURRENT; a new AWSCURRENT leaves AWSPREVIOUS
    /// on the old one), and sends it to the secret's replicas. Returns the VersionId.</summary>
    public string PutSecretValue(string nameOrArn, string? secretString = null, byte[]? secretBinary = null, params string[] versionStages) =>
        Seed(() => At(null, nameOrArn).Secrets.PutValue(nameOrArn, secretString, secretBinary, versionStages).VersionId!);

    /// <summary>Moves or removes a staging label, with UpdateSecretVersionStage's rules, and sends the change to the secret's replicas.</summary>
    public void UpdateSecretVersionStage(string nameOrArn, string versionStage, string? moveToVersionId, string? removeFromVersionId, string? region = null) =>
        Seed(() => At(region, nameOrArn).Secrets.UpdateStage(nameOrArn, versionStage, moveToVersionId, removeFromVersionId));

    /// <summary>Deletes a secret as DeleteSecret does: by default it is marked for deletion for 30 days (reads answer
    /// InvalidRequestException); with <paramref name="forceDeleteWithoutRecovery"/> it is gone at once (ResourceNotFoundException),
    /// and a missing or already deleted secret is not an error. Replicas, and primaries that still have replicas, are refused.</summary>
    public void DeleteSecret(string nameOrArn, bool forceDeleteWithoutRecovery = false, string? region = null) =>
        Seed(() => At(region, nameOrArn).Secrets.Delete(nameOrArn, null, forceDeleteWithoutRecovery));

    /// <summary>Writes a parameter (String, StringList or SecureString) in <paramref name="region"/> (default
    /// <see cref="Region"/>; Parameter Store does not replicate) and returns its new version number.</summary>
    public long PutParameter(string name, string value, string type = "SecureString", bool overwrite = true, string? region = null) =>
        Seed(() => At(region, name).Parameters.Put(name, value, new ParameterWrite(type, overwrite)).Version);

    /// <summary>Attaches labels to a parameter version, moving them off other versions.</summary>
    /// <exception cref="ArgumentException">A label breaks AWS's label rules.</exception>
    public void LabelParameterVersion(string name, long version, params string[] labels)
    {
        var (invalid, _) = Seed(() => At(null, name).Parameters.Label(name, version, labels));
        if (invalid.Count > 0)
        {
            throw new ArgumentException($"Invalid labels: {string.Join(", ", invalid)}", nameof(labels));
        }
    }

    /// <summary>Deletes a parameter and all its versions.</summary>
    public void DeleteParameter(string name, string? region = null) => Seed(() => At(region, name).Parameters.Delete(name));

    /// <summary>Reads of this secret or parameter answer AccessDeniedException. A plain name applies to both services and,
    /// without <paramref name="region"/>, to every region; an ARN applies to its own region.</summary>
    public void DenyAccess(string nameOrArn, string? region = null) => ForEachService(nameOrArn, region, _state.Access.Deny);

    /// <summary>Reads of this secret answer DecryptionFailure; decrypted reads of this SecureString parameter answer
    /// InvalidKeyId (a disabled KMS key). Scoped as <see cref="DenyAccess"/>: a region's KMS key can fail alone.</summary>
    public void FailDecryption(string nameOrArn, string? region = null) => ForEachService(nameOrArn, region, _state.Access.FailDecryption);

    /// <summary>Undoes <see cref="DenyAccess"/> and <see cref="FailDecryption"/> for this name or ARN, scoped as they are
    /// (a rule set for every region can be lifted in one).</summary>
    public void RestoreAccess(string nameOrArn, string? region = null) => ForEachService(nameOrArn, region, _state.Access.Restore);

    /// <summary>Stops Kestrel; requests still waiting on <see cref="FaultRules.Latency"/> are abandoned.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _server.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>Applies an access rule by name, in one region (given, or the ARN's) or in every region (a plain name alone).</summary>
    private void ForEachService(string nameOrArn, string? region, Action<string?, EmulatorService, string> apply)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrArn);
        var scope = region is null && _state.OfArn(nameOrArn) is null ? null : At(region, nameOrArn);
        var lookup = scope ?? _state.Default;
        var isSecretArn = nameOrArn.StartsWith(lookup.Arns.SecretPrefix, StringComparison.Ordinal);
        var isParameterArn = nameOrArn.StartsWith(lookup.Arns.ParameterPrefix, StringComparison.Ordinal);
        if (!isParameterArn)
        {
            var name = lookup.Secrets.TryResolveName(nameOrArn) ?? (isSecretArn ? nameOrArn[lookup.Arns.SecretPrefix.Length..] : nameOrArn);
            apply(scope?.Region, EmulatorService.SecretsManager, name);
        }

        if (!isSecretArn)
        {
            apply(scope?.Region, EmulatorService.ParameterStore, lookup.Parameters.ToName(nameOrArn));
        }
    }

    /// <summary>The state a seeding call works on: <paramref name="region"/>'s, else the region <paramref name="nameOrArn"/>
    /// names as an ARN, else the default region's.</summary>
    private RegionState At(string? region, string? nameOrArn = null)
    {
        var ofArn = nameOrArn is null ? null : _state.OfArn(nameOrArn);
        if (region is null)
        {
            return ofArn ?? _state.Default;
        }

        var state = _state.Find(region) ?? throw NotServed(region);
        return ofArn is null || ofArn == state
            ? state
            : throw new ArgumentException($"The ARN names the region '{ofArn.Region}', not '{region}'.", nameof(region));
    }

    private static ArgumentException NotServed(string region) =>
        new($"The emulator does not serve the region '{region}': list it in AwsEmulatorOptions.AdditionalRegions.", nameof(region));

    /// <summary>The default region first, then the additional ones, each once; all valid region codes of one partition.</summary>
    private static List<string> ServedRegions(AwsEmulatorOptions options)
    {
        var partition = new AwsArns(options.Region, options.AccountId).Partition;
        var regions = new List<string> { options.Region };
        foreach (var region in options.AdditionalRegions)
        {
            if (string.IsNullOrEmpty(region) || !RegionCode().IsMatch(region))
            {
                throw new ArgumentException($"'{region}' is not a region code (such as us-west-2).", nameof(options));
            }

            if (new AwsArns(region, options.AccountId).Partition != partition)
            {
                throw new ArgumentException($"The region '{region}' is not in the partition '{partition}' of the region '{options.Region}': secrets replicate only within a partition.", nameof(options));
            }

            if (!regions.Contains(region, StringComparer.Ordinal))
            {
                regions.Add(region);
            }
        }

        return regions;
    }

    /// <summary>RegionType's pattern in the Secrets Manager model.</summary>
    [GeneratedRegex(@"^([a-z]+-)+\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex RegionCode();

    private static void Seed(Action action) => Seed(() =>
    {
        action();
        return true;
    });

    private static T Seed<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (AwsErrorException error)
        {
            throw new InvalidOperationException($"{error.Code}: {error.AwsMessage}", error);
        }
    }
}

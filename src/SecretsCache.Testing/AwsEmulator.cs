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
/// <remarks>Sign requests with <see cref="AccessKeyId"/>/<see cref="SecretAccessKey"/> for <see cref="Region"/> and service
/// <c>secretsmanager</c> or <c>ssm</c>. Seeding methods change state directly with the same rules as the HTTP operations,
/// and throw <see cref="InvalidOperationException"/> (message starting with the AWS error code) where AWS would answer an error.</remarks>
public sealed class AwsEmulator : IAsyncDisposable
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

    /// <summary>The region requests must be signed for.</summary>
    public string Region => _state.Arns.Region;

    /// <summary>The account id in ARNs.</summary>
    public string AccountId => _state.Arns.AccountId;

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

        var time = options.TimeProvider;
        var faults = new EmulatorFaults(time);
        var requests = new EmulatorRequestLog();
        var state = new EmulatorState(new AwsArns(options.Region, options.AccountId), () => time.GetUtcNow() + faults.ClockSkew);
        var credentials = new CredentialStore();
        var stopping = new CancellationTokenSource();
        var pipeline = new RequestPipeline(state, new RequestAuthenticator(credentials, options.Region), faults, requests, time, stopping.Token);
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

    /// <summary>Creates a secret; with a value, its first version gets AWSCURRENT. Returns the ARN (<c>...:secret:NAME-AbCdEf</c>).</summary>
    public string CreateSecret(string name, string? secretString = null, byte[]? secretBinary = null) =>
        Seed(() => _state.Secrets.Create(name, secretString, secretBinary).Arn);

    /// <summary>Adds a version with <paramref name="versionStages"/> (default AWSCURRENT; a new AWSCURRENT leaves AWSPREVIOUS on the old one). Returns the VersionId.</summary>
    public string PutSecretValue(string nameOrArn, string? secretString = null, byte[]? secretBinary = null, params string[] versionStages) =>
        Seed(() => _state.Secrets.PutValue(nameOrArn, secretString, secretBinary, versionStages).VersionId!);

    /// <summary>Moves or removes a staging label, with UpdateSecretVersionStage's rules.</summary>
    public void UpdateSecretVersionStage(string nameOrArn, string versionStage, string? moveToVersionId, string? removeFromVersionId) =>
        Seed(() => _state.Secrets.UpdateStage(nameOrArn, versionStage, moveToVersionId, removeFromVersionId));

    /// <summary>Deletes a secret as DeleteSecret does: by default it is marked for deletion for 30 days (reads answer
    /// InvalidRequestException); with <paramref name="forceDeleteWithoutRecovery"/> it is gone at once (ResourceNotFoundException),
    /// and a missing or already deleted secret is not an error.</summary>
    public void DeleteSecret(string nameOrArn, bool forceDeleteWithoutRecovery = false) =>
        Seed(() => _state.Secrets.Delete(nameOrArn, null, forceDeleteWithoutRecovery));

    /// <summary>Writes a parameter (String, StringList or SecureString) and returns its new version number.</summary>
    public long PutParameter(string name, string value, string type = "SecureString", bool overwrite = true) =>
        Seed(() => _state.Parameters.Put(name, value, new ParameterWrite(type, overwrite)).Version);

    /// <summary>Attaches labels to a parameter version, moving them off other versions.</summary>
    /// <exception cref="ArgumentException">A label breaks AWS's label rules.</exception>
    public void LabelParameterVersion(string name, long version, params string[] labels)
    {
        var (invalid, _) = Seed(() => _state.Parameters.Label(name, version, labels));
        if (invalid.Count > 0)
        {
            throw new ArgumentException($"Invalid labels: {string.Join(", ", invalid)}", nameof(labels));
        }
    }

    /// <summary>Deletes a parameter and all its versions.</summary>
    public void DeleteParameter(string name) => Seed(() => _state.Parameters.Delete(name));

    /// <summary>Reads of this secret or parameter answer AccessDeniedException. A plain name applies to both services.</summary>
    public void DenyAccess(string nameOrArn) => ForEachService(nameOrArn, _state.Access.Deny);

    /// <summary>Reads of this secret answer DecryptionFailure; decrypted reads of this SecureString parameter answer
    /// InvalidKeyId (a disabled KMS key). A plain name applies to both services.</summary>
    public void FailDecryption(string nameOrArn) => ForEachService(nameOrArn, _state.Access.FailDecryption);

    /// <summary>Undoes <see cref="DenyAccess"/> and <see cref="FailDecryption"/> for this name or ARN.</summary>
    public void RestoreAccess(string nameOrArn) => ForEachService(nameOrArn, _state.Access.Restore);

    /// <summary>Stops Kestrel; requests still waiting on <see cref="EmulatorFaults.Latency"/> are abandoned.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _server.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private void ForEachService(string nameOrArn, Action<EmulatorService, string> apply)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrArn);
        var isSecretArn = nameOrArn.StartsWith(_state.Arns.SecretPrefix, StringComparison.Ordinal);
        var isParameterArn = nameOrArn.StartsWith(_state.Arns.ParameterPrefix, StringComparison.Ordinal);
        if (!isParameterArn)
        {
            var name = _state.Secrets.TryResolveName(nameOrArn) ?? (isSecretArn ? nameOrArn[_state.Arns.SecretPrefix.Length..] : nameOrArn);
            apply(EmulatorService.SecretsManager, name);
        }

        if (!isSecretArn)
        {
            apply(EmulatorService.ParameterStore, _state.Parameters.ToName(nameOrArn));
        }
    }

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

// The cold-start probe: Main to the first secret value, phase by phase, run by the ColdStart harness (--probe). Each phase
// does, ahead of the first read, one thing the first read would otherwise do first; its time is what that first costs (JIT
// of its code, type loading, file and socket work), and the last phase is what the first read still adds. "plain" does only
// what an application does: build the provider and read one secret. Lines on stdout: "phase <name> <ms since Main>", then
// "value <ms>" and "rss <bytes>". The environment is the harness's (emulator endpoint, region, environment credentials).
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Internal.Auth;
using SecretsCache;
using SecretsCache.Aws.Contracts;
using SecretsCache.Aws.Endpoints;
using SecretsCache.Aws.Protocol;

var clock = Stopwatch.StartNew();
var mode = args.Length > 0 ? args[0] : "phases";
var url = new Uri(Environment.GetEnvironmentVariable("SECRETSCACHE_SERVICE_URL") ?? throw new InvalidOperationException("SECRETSCACHE_SERVICE_URL is not set."));
const string Name = "bench/secret-00";

if (mode == "plain")
{
    var plainOptions = Options(url);
    if (Environment.GetEnvironmentVariable("SECRETSCACHE_PROBE_CREDENTIALS") == "chain")
    {
        // Before: what the provider did until 2026-12-02, AWSSDK.Core's default chain built and asked even when the
        // environment holds the keys. The same build, so the difference is the chain alone.
        plainOptions.Aws.Credentials = await DefaultAWSCredentialsIdentityResolver.GetCredentialsAsync(null);
    }

    using var provider = new SecretProvider(plainOptions);
    var secret = await provider.GetAsync(Name);
    Report("value", secret);
    return 0;
}

var options = Options(url);
Mark("options");

var credentials = await new AwsCredentialsSource(null).GetAsync(); // the provider's own resolution (environment credentials here)
Mark("credentials");

var region = Environment.GetEnvironmentVariable("AWS_REGION") ?? FallbackRegionFactory.GetRegionEndpoint()?.SystemName ?? "us-east-1";
Mark("region");

using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, MaxResponseDrainSize = 0 }) { Timeout = Timeout.InfiniteTimeSpan };
Mark("handler and HttpClient");

using var provider2 = new SecretProvider(options, http);
Mark("provider construction");

var request = JsonSerializer.SerializeToUtf8Bytes(new GetSecretValueRequest { SecretId = Name }, AwsJsonContext.Default.GetSecretValueRequest);
_ = JsonSerializer.Deserialize(
    """{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf","Name":"x","VersionId":"v","SecretString":"s","VersionStages":["AWSCURRENT"],"CreatedDate":1.7E9}"""u8,
    AwsJsonContext.Default.GetSecretValueResponse);
Mark("JSON metadata");

using (var post = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(request) })
{
    using var answer = await http.SendAsync(post);
    _ = await answer.Content.ReadAsByteArrayAsync();
}

Mark("first connection (unsigned POST)");

_ = System.Security.Cryptography.HMACSHA256.HashData(new byte[32], new byte[64]);
Mark("first HMAC-SHA256 (OpenSSL loaded)"); // what SigV4's first signature pays, and a TLS handshake to AWS would anyway
_ = AWS4Signer.ComputeSignature(credentials, region, DateTime.UtcNow, "secretsmanager", "host;x-amz-date", "POST\n/\n\nhost:x\nx-amz-date:20261202T000000Z\n\nhost;x-amz-date\n" + new string('0', 64));
Mark("first signature (AWS4Signer)");

using (var client = new AwsJsonClient(options, http, TimeProvider.System))
{
    Mark("client construction (rate limiters)");
    ValidateAsPollyDoes();
    Mark("options validation as Polly's builder does it (DataAnnotations)");
    var pipeline = client.Policy.Pipeline(AwsService.SecretsManager, region);
    Mark("retry-pipeline build (Polly)");
    _ = await pipeline.ExecuteAsync(static _ => ValueTask.FromResult("run"));
}

Mark("first retry-pipeline run (Polly)");

var value = await provider2.GetAsync(Name);
Report("value", value);
return 0;

void Mark(string phase) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"phase {phase.Replace(' ', '_')} {clock.Elapsed.TotalMilliseconds:F2}"));

void Report(string what, Secret secret)
{
    var ms = clock.Elapsed.TotalMilliseconds;
    if (secret.GetString().Length == 0)
    {
        throw new InvalidOperationException("An empty value.");
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what} {ms:F2}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rss {Rss()}"));
}

static long Rss()
{
    // VmRSS of /proc/self/status, in kB.
    foreach (var line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
        {
            return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
        }
    }

    return Environment.WorkingSet;
}

static SecretsCacheOptions Options(Uri url)
{
    // What the Lambda sample does: the endpoint from the environment, credentials and region by AWSSDK.Core's chains.
    var options = new SecretsCacheOptions();
    options.Aws.ServiceUrl = url.ToString();
    return options;
}

// Polly's builder validates each strategy's options with DataAnnotations' reflection-based Validator (Polly.Utils.ValidationHelper),
// and offers no way to replace it; its first use is a cost of the first pipeline, measured here on its own.
[System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Polly preserves its options' members for the same call.")]
static void ValidateAsPollyDoes()
{
    var options = new Polly.Retry.RetryStrategyOptions();
    _ = System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new System.ComponentModel.DataAnnotations.ValidationContext(options), [], validateAllProperties: true);
}

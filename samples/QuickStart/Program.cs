// SecretsCache quick start.
//   dotnet run --project samples/QuickStart                   # no AWS credentials: runs on the embedded emulator
//   dotnet run --project samples/QuickStart -- app/db ssm:/x  # with AWS credentials: reads these references from your account
using System.Diagnostics;
using System.Text.Json.Serialization;
using SecretsCache;
using SecretsCache.Testing;

if (HasAwsCredentials() && args.Length > 0)
{
    using var real = new SecretProvider();
    foreach (var reference in args)
    {
        var secret = await real.GetAsync(reference);
        Console.WriteLine($"{reference} -> {secret}"); // ToString never shows the value.
    }

    return 0;
}

Console.WriteLine(HasAwsCredentials()
    ? "AWS credentials found, but no references given: running the demo on the embedded emulator instead."
    : "No AWS credentials configured: running on the embedded loopback emulator (real wire protocol, SigV4-verified).");

await using var aws = await AwsEmulator.StartAsync();
aws.CreateSecret("demo/db", """{"username":"app","password":"first-password"}""");
aws.PutParameter("/demo/prod/api-url", "https://api.example.com", "String");
aws.PutParameter("/demo/prod/api-key", "k-123");

var options = new SecretsCacheOptions { DefaultTtl = TimeSpan.FromMinutes(5) }.UseEmulator(aws);
options.TtlByReference["ssm:/demo/prod/api-url"] = TimeSpan.FromMilliseconds(200); // short, to show serve-stale below
options.Retry.BaseDelay = TimeSpan.FromMilliseconds(20);
using var provider = new SecretProvider(options);

// 1. Typed reads, one backend call per key however many callers.
var timer = Stopwatch.StartNew();
var reads = await Task.WhenAll(Enumerable.Range(0, 1_000).Select(_ => provider.GetJsonAsync("demo/db", DemoJson.Default.DbCredentials).AsTask()));
Console.WriteLine($"1,000 concurrent reads of demo/db: user '{reads[0].Username}', {aws.Requests.Count("secretsmanager.GetSecretValue")} GetSecretValue call ({timer.ElapsedMilliseconds} ms).");

timer.Restart();
for (var i = 0; i < 100_000; i++)
{
    _ = await provider.GetAsync("demo/db");
}

Console.WriteLine($"100,000 cached reads: {timer.Elapsed.TotalMilliseconds * 1_000_000 / 100_000:F0} ns each, still {aws.Requests.Count("secretsmanager.GetSecretValue")} backend call.");

// 2. Parameter Store, a whole path, and the Secrets Manager passthrough.
var parameters = await provider.GetPathAsync("/demo/prod/");
Console.WriteLine($"GetPathAsync(/demo/prod/): {string.Join(", ", parameters.Keys.Order())}");
Console.WriteLine($"ssm:/demo/prod/api-url = {await provider.GetStringAsync("ssm:/demo/prod/api-url")}");
var viaParameterStore = await provider.GetAsync("/aws/reference/secretsmanager/demo/db");
Console.WriteLine($"Passthrough: {viaParameterStore}");

// 3. Rotation: a new AWSCURRENT is seen on refresh, and a change notification names the versions, never the values.
var before = (await provider.GetAsync("demo/db")).VersionId;
aws.PutSecretValue("demo/db", """{"username":"app","password":"second-password"}""");
var after = await provider.RefreshAsync("demo/db");
Console.WriteLine($"Rotated demo/db: version {before?[..8]}... -> {after.VersionId?[..8]}...");

// 4. The backend fails: callers keep the last good value while retries back off.
aws.Faults.FailNext(50, 503);
provider.Invalidate("ssm:/demo/prod/api-key");
try
{
    await provider.GetStringAsync("ssm:/demo/prod/api-key");
}
catch (SecretServiceUnavailableException ex)
{
    Console.WriteLine($"With no cached value and AWS failing: {ex.GetType().Name} after retries ({ex.ErrorCode}).");
}

await Task.Delay(TimeSpan.FromMilliseconds(300)); // let the 200 ms TTL of api-url run out
var stale = await provider.GetAsync("ssm:/demo/prod/api-url");
Console.WriteLine($"Its TTL has run out and AWS fails, yet the last good value is served (fetched {(DateTimeOffset.UtcNow - stale.FetchedAt).TotalMilliseconds:F0} ms ago): {stale.GetString()}");
aws.Faults.Clear();

// 5. Bad input fails fast with a message that says what is wrong.
try
{
    await provider.GetAsync("sm:app/db?stage=AWSCURRENT&versionId=123");
}
catch (ArgumentException ex)
{
    Console.WriteLine($"Bad reference: {ex.Message}");
}

Console.WriteLine($"Backend requests in all: {aws.Requests.Total} ({aws.Requests.Throttled} throttled).");
return 0;

static bool HasAwsCredentials() =>
    Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is { Length: > 0 }
    || Environment.GetEnvironmentVariable("AWS_PROFILE") is { Length: > 0 }
    || Environment.GetEnvironmentVariable("AWS_WEB_IDENTITY_TOKEN_FILE") is { Length: > 0 }
    || Environment.GetEnvironmentVariable("AWS_CONTAINER_CREDENTIALS_FULL_URI") is { Length: > 0 }
    || Environment.GetEnvironmentVariable("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") is { Length: > 0 }
    || File.Exists(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".aws", "credentials"));

internal sealed record DbCredentials(string Username, string Password)
{
    public override string ToString() => $"DbCredentials {{ Username = {Username}, Password = *** }}";
}

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(DbCredentials))]
internal sealed partial class DemoJson : JsonSerializerContext;

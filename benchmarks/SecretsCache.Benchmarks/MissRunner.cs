using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime;
using Amazon.Runtime.Internal.Auth;
using SecretsCache.Testing;

namespace SecretsCache.Benchmarks;

/// <summary>
/// A miss beside two bare POSTs to the same loopback emulator, in one run: what the client allocates per request and its
/// latency (p50, p99). The emulator runs in a child process (this program with <c>--emulator-child</c>), so the allocation
/// counted here is the client's alone. Contenders take turns, a block each per round, so a busy moment of the machine falls
/// on all of them. Bounded: a fixed number of rounds and requests, and a deadline.
/// <list type="bullet">
/// <item>unsigned POST: HttpClient sends the GetSecretValue body without a signature (the emulator answers an error);</item>
/// <item>signed POST: the same, signed with AWSSDK.Core's AWS4Signer over a canonical request written inline, body read as bytes;</item>
/// <item>miss: <c>Invalidate</c> + <c>GetAsync</c> through a <see cref="SecretProvider"/> (retry pipeline, signing, JSON, cache).</item>
/// </list>
/// </summary>
internal static class MissRunner
{
    private const string SecretName = "app/db-creds";
    private const string Target = "secretsmanager.GetSecretValue";
    private const string ContentType = "application/x-amz-json-1.1";
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    /// <summary>The child: an emulator with the one secret, until stdin closes (or ten minutes pass).</summary>
    public static async Task ServeAsync()
    {
        await using var aws = await AwsEmulator.StartAsync();
        aws.CreateSecret(SecretName, """{"username":"app","password":"benchmark-password-0123456789"}""");
        Console.WriteLine($"EMULATOR {aws.Endpoint} {aws.Region} {aws.AccessKeyId} {aws.SecretAccessKey}");
        Console.Out.Flush();
        var closed = Task.Run(() => Console.In.ReadToEnd());
        await Task.WhenAny(closed, Task.Delay(TimeSpan.FromMinutes(10)));
    }

    public static async Task RunAsync(string[] args)
    {
        var rounds = IntArg(args, "--rounds", 10);
        var perBlock = IntArg(args, "--requests", 300);
        using var child = StartChild();
        var line = await child.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("The emulator child exited.");
        var parts = line.Split(' ');
        var (endpoint, region, accessKey, secretKey) = (new Uri(parts[1]), parts[2], parts[3], parts[4]);
        try
        {
            await MeasureAsync(endpoint, region, new ImmutableCredentials(accessKey, secretKey, null), rounds, perBlock, args.Contains("--profile"));
        }
        finally
        {
            child.StandardInput.Close();
            if (!child.WaitForExit(10_000))
            {
                child.Kill();
            }
        }
    }

    private static async Task MeasureAsync(Uri endpoint, string region, ImmutableCredentials credentials, int rounds, int perBlock, bool profile)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        var body = Encoding.UTF8.GetBytes($$"""{"SecretId":"{{SecretName}}"}""");
        var host = $"{endpoint.Host}:{endpoint.Port.ToString(CultureInfo.InvariantCulture)}";

        var options = new SecretsCacheOptions();
        options.Aws.ServiceUrl = endpoint.ToString();
        options.Aws.Region = region;
        options.Aws.Credentials = new BasicAWSCredentials(credentials.AccessKey, credentials.SecretKey);
        options.RateLimits.SecretsManagerRequestsPerSecond = 0;
        options.RateLimits.ParameterStoreRequestsPerSecond = 0;
        using var provider = new SecretProvider(options);

        var contenders = new (string Name, Func<Task> Run)[]
        {
            ("bare unsigned POST (HttpClient)", async () =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(ContentType);
                request.Headers.TryAddWithoutValidation("X-Amz-Target", Target);
                using var response = await http.SendAsync(request);
                _ = await response.Content.ReadAsByteArrayAsync();
            }),
            ("bare signed POST (AWS4Signer + HttpClient)", async () =>
            {
                using var request = SignedRequest(endpoint, host, region, credentials, body);
                using var response = await http.SendAsync(request);
                var bytes = await response.Content.ReadAsByteArrayAsync();
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"The signed POST was refused ({(int)response.StatusCode}): {Encoding.UTF8.GetString(bytes)}");
                }
            }),
            ("miss: SecretProvider Invalidate + GetAsync", async () =>
            {
                provider.Invalidate(SecretName);
                _ = await provider.GetAsync(SecretName);
            }),
        };

        // Warm-up: JIT, connections, tiering.
        foreach (var (_, run) in contenders)
        {
            for (var i = 0; i < 500; i++)
            {
                await run();
            }
        }

        if (profile)
        {
            // What the bare signed POST and a miss allocate, by type, from the runtime's sampled allocation events (one per
            // ~100 KB allocated), side by side: the difference is what the provider adds on top of AWSSDK.Core and HttpClient.
            const int Operations = 20_000;
            var byContender = new List<Dictionary<string, long>>();
            foreach (var index in new[] { 1, contenders.Length - 1 })
            {
                using var listener = new AllocationListener();
                for (var i = 0; i < Operations && listener.Elapsed < Deadline; i++)
                {
                    await contenders[index].Run();
                }

                byContender.Add(listener.Snapshot());
            }

            AllocationListener.PrintDifference(byContender[0], byContender[1], Operations);
            return;
        }

        var samples = contenders.Select(_ => new List<double>(rounds * perBlock)).ToArray();
        var allocated = contenders.Select(_ => new List<double>(rounds)).ToArray();
        var roundP50 = contenders.Select(_ => new List<double>(rounds)).ToArray();
        var clock = Stopwatch.StartNew();
        var done = 0;
        for (var round = 0; round < rounds && clock.Elapsed < Deadline; round++, done++)
        {
            for (var k = 0; k < contenders.Length; k++)
            {
                var c = (k + round) % contenders.Length; // rotate who goes first
                var block = new List<double>(perBlock);
                var before = GC.GetTotalAllocatedBytes(precise: true);
                for (var i = 0; i < perBlock; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    await contenders[c].Run();
                    block.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                }

                allocated[c].Add((GC.GetTotalAllocatedBytes(precise: true) - before) / (double)perBlock);
                samples[c].AddRange(block);
                roundP50[c].Add(Percentile(block, 0.5));
            }
        }

        const int Unsigned = 0, Signed = 1;
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";
        Console.WriteLine($"Miss over loopback, {done} rounds x {perBlock} requests per contender after 500 warm-up each; emulator in a child process; " +
            $"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; {Environment.ProcessorCount} cores, {cpu ?? "unknown CPU"}; .NET {Environment.Version}; load average {load} at the end.");
        Console.WriteLine();
        Console.WriteLine("| request | client allocation per request (median of rounds) | × unsigned | p50 µs | p99 µs | p50 × signed POST (all samples) | p50 × signed POST, range over rounds |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        var signedP50 = Percentile(samples[Signed], 0.5);
        for (var c = 0; c < contenders.Length; c++)
        {
            var ratios = roundP50[c].Zip(roundP50[Signed], (a, b) => a / b).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {contenders[c].Name} | {Percentile(allocated[c], 0.5) / 1024:F1} KB | {Percentile(allocated[c], 0.5) / Percentile(allocated[Unsigned], 0.5):F2}× | " +
                $"{Percentile(samples[c], 0.5):F0} | {Percentile(samples[c], 0.99):F0} | {Percentile(samples[c], 0.5) / signedP50:F2}× | {ratios.Min():F2}–{ratios.Max():F2}× |"));
        }
    }

    /// <summary>A signed GetSecretValue as a minimal client would send it: four signed headers, the canonical request inline.</summary>
    private static HttpRequestMessage SignedRequest(Uri endpoint, string host, string region, ImmutableCredentials credentials, byte[] body)
    {
        var now = DateTime.UtcNow;
        var amzDate = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(body));
        const string signedHeaders = "content-type;host;x-amz-date;x-amz-target";
        var canonical = $"POST\n/\n\ncontent-type:{ContentType}\nhost:{host}\nx-amz-date:{amzDate}\nx-amz-target:{Target}\n\n{signedHeaders}\n{payloadHash}";
        var signature = AWS4Signer.ComputeSignature(credentials, region, now, "secretsmanager", signedHeaders, canonical);
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(ContentType);
        request.Headers.Host = host;
        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", Target);
        request.Headers.TryAddWithoutValidation("Authorization", signature.ForAuthorizationHeader);
        return request;
    }

    private static Process StartChild()
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("No process path.");
        var info = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(MissRunner).Assembly.Location);
        }

        info.ArgumentList.Add("--emulator-child");
        return Process.Start(info) ?? throw new InvalidOperationException("Could not start the emulator child.");
    }

    private static int IntArg(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        var rank = p * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
    }
}

/// <summary>Sums the runtime's sampled allocation events (GCAllocationTick) by type, for <c>--miss --profile</c>.</summary>
internal sealed class AllocationListener : System.Diagnostics.Tracing.EventListener
{
    private readonly Dictionary<string, long> _bytes = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public TimeSpan Elapsed => _clock.Elapsed;

    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1); // GC keyword
        }
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
    {
        if (e.EventName is not "GCAllocationTick_V4" || e.Payload is null || e.PayloadNames is null)
        {
            return;
        }

        var type = e.Payload[e.PayloadNames.IndexOf("TypeName")] as string ?? "?";
        var amount = Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("AllocationAmount64")], CultureInfo.InvariantCulture);
        lock (_bytes)
        {
            _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
        }
    }

    public Dictionary<string, long> Snapshot()
    {
        lock (_bytes)
        {
            return new Dictionary<string, long>(_bytes);
        }
    }

    public static void PrintDifference(Dictionary<string, long> signedPost, Dictionary<string, long> miss, int operations)
    {
        Console.WriteLine("| type (sampled) | bare signed POST, bytes per request | miss, bytes per miss | miss − signed POST |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var type in signedPost.Keys.Union(miss.Keys).OrderByDescending(t => miss.GetValueOrDefault(t) - signedPost.GetValueOrDefault(t)).Take(45))
        {
            var (a, b) = (signedPost.GetValueOrDefault(type) / (double)operations, miss.GetValueOrDefault(type) / (double)operations);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {type} | {a:F0} | {b:F0} | {b - a:F0} |"));
        }

        var (total, totalMiss) = (signedPost.Values.Sum() / (double)operations, miss.Values.Sum() / (double)operations);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| **all types (sampled)** | {total:F0} | {totalMiss:F0} | {totalMiss - total:F0} |"));
    }
}

using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using SecretsCache.Redis.Backplane;
using SecretsCache.Redis.FleetLimit;
using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;
using StackExchange.Redis;

namespace SecretsCache.Redis.Tests.Leaks;

/// <summary>
/// After a workload of every primitive, no canary name, value or key is anywhere in Redis (key names, values, dumps), in any
/// message or channel that passed through it, in any log record, or in any metric tag.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class NoPlaintextInRedisTests(RedisServer server)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    [RedisFact]
    public async Task Nothing_Redis_holds_or_carries_contains_a_canary_name_value_or_key()
    {
        var marker = Guid.NewGuid().ToString("N")[..10];
        var name = $"prod/canary-name-{marker}";
        var value = $"{{\"password\":\"canary-value-{marker}\"}}";
        var canonical = "sm:" + name;
        var key = Levels.NewKey();
        var ns = Levels.NewNamespace();
        await using var admin = await server.ConnectAdminAsync();
        var traffic = new List<(string Channel, byte[] Payload)>();
        var everything = RedisChannel.Pattern("*");
        await admin.GetSubscriber().SubscribeAsync(everything, (channel, message) =>
        {
            lock (traffic)
            {
                traffic.Add((channel.ToString(), (byte[]?)message ?? []));
            }
        });
        using var logs = new FakeLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var tags = new List<string>();
        using var listener = ListenToTags(meters, tags);

        var fleet = new RedisSecondLevel[3];
        for (var i = 0; i < fleet.Length; i++)
        {
            fleet[i] = await Levels.CreateAsync(server, ns, key, meters: meters, loggers: loggers);
            fleet[i].Backplane.Track(canonical);
        }

        try
        {
            await WorkloadAsync(fleet, name, value, canonical);
            // A fence: once the admin sees a message published after the workload, it has seen all of the workload's.
            var fence = RedisChannel.Literal($"sc:{ns}:fence");
            await admin.GetSubscriber().PublishAsync(fence, "fence");
            for (var i = 0; i < 1_000 && !Seen(traffic, fence.ToString()); i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
            }

            Assert.True(Seen(traffic, fence.ToString()));
        }
        finally
        {
            await Levels.DisposeAllAsync(fleet);
            await admin.GetSubscriber().UnsubscribeAsync(everything);
        }

        var canaries = new[] { name, $"canary-name-{marker}", $"canary-value-{marker}", value }
            .SelectMany(Forms)
            .Concat(Forms(Convert.ToBase64String(key)))
            .Append(key)
            .ToArray();
        var stored = await EverythingStoredAsync(admin, ns);
        Assert.True(stored.Count > 5, $"the workload left only {stored.Count} keys in Redis");
        Assert.True(traffic.Count > 5, $"only {traffic.Count} messages passed through Redis");
        foreach (var (what, bytes) in stored.Concat(traffic.SelectMany(t => new[] { ("channel " + t.Channel, Encoding.UTF8.GetBytes(t.Channel)), ("message on " + t.Channel, t.Payload) })))
        {
            foreach (var canary in canaries)
            {
                Assert.False(bytes.AsSpan().IndexOf(canary) >= 0, $"{what} holds a canary");
            }
        }

        var logged = logs.Collector.GetSnapshot().Select(r => r.Message + r.Exception + string.Join(",", r.StructuredState ?? [])).ToList();
        Assert.NotEmpty(tags);
        foreach (var text in logged.Concat(tags))
        {
            Assert.DoesNotContain(marker, text, StringComparison.Ordinal);
        }
    }

    [RedisFact]
    public async Task Through_whole_providers_Redis_holds_and_carries_no_canary_name_value_or_key_secret()
    {
        var marker = Guid.NewGuid().ToString("N")[..10];
        var name = $"prod/canary-name-{marker}";
        var parameter = $"/prod/canary-param-{marker}";
        var value = $"canary-value-{marker}";
        var keySecret = $"redis/canary-key-{marker}";
        var key = Levels.NewKey();
        await using var aws = await AwsEmulator.StartAsync();
        aws.CreateSecret(keySecret, Convert.ToBase64String(key));
        aws.CreateSecret(name, value + "-1");
        aws.PutParameter(parameter, value + "-p");
        await using var admin = await server.ConnectAdminAsync();
        var traffic = new List<(string Channel, byte[] Payload)>();
        var everything = RedisChannel.Pattern("*");
        await admin.GetSubscriber().SubscribeAsync(everything, (channel, message) =>
        {
            lock (traffic)
            {
                traffic.Add((channel.ToString(), (byte[]?)message ?? []));
            }
        });
        using var logs = new FakeLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var tags = new List<string>();
        using var listener = ListenToTags(meters, tags);
        var ns = Levels.NewNamespace();
        var providers = new List<SecretProvider>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var redis = new RedisL2Options { Configuration = server.Configuration, Namespace = ns, EncryptionKeySecret = keySecret };
                providers.Add(await RedisSecretProvider.CreateAsync(new SecretsCacheOptions().UseEmulator(aws), redis, loggerFactory: loggers, meterFactory: meters));
                await Levels.SubscribedAsync(Provider.FleetProviders.LevelOf(providers[i]));
            }

            // Reads at once (lease, wait, results), a warm-up, a rotation, an invalidation, and reads again.
            await Task.WhenAll(providers.Select(p => p.GetStringAsync(name).AsTask()));
            await providers[1].WarmUpAsync([name, "ssm:" + parameter]);
            aws.PutSecretValue(name, value + "-2");
            Assert.Equal(value + "-2", (await providers[0].RefreshAsync(name)).GetString());
            providers[2].Invalidate("ssm:" + parameter);
            Assert.Equal(value + "-p", await providers[0].GetStringAsync("ssm:" + parameter));
            // The rotation reaches providers[2] through the backplane, asynchronously (bounded wait, as for the fence below).
            var seen = await providers[2].GetStringAsync(name);
            for (var i = 0; i < 1_000 && seen != value + "-2"; i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
                seen = await providers[2].GetStringAsync(name);
            }

            Assert.Equal(value + "-2", seen);
            var fence = RedisChannel.Literal($"sc:{ns}:fence");
            await admin.GetSubscriber().PublishAsync(fence, "fence");
            for (var i = 0; i < 1_000 && !Seen(traffic, fence.ToString()); i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
            }
        }
        finally
        {
            foreach (var provider in providers)
            {
                provider.Dispose();
            }

            await admin.GetSubscriber().UnsubscribeAsync(everything);
        }

        var canaries = new[] { name, parameter, marker, value, keySecret }
            .SelectMany(Forms)
            .Concat(Forms(Convert.ToBase64String(key)))
            .Append(key)
            .ToArray();
        var stored = await EverythingStoredAsync(admin, ns, leaseLeft: false);
        Assert.Contains(traffic, t => t.Channel == $"sc:{ns}:bp");
        foreach (var (what, bytes) in stored.Concat(traffic.SelectMany(t => new[] { ("channel " + t.Channel, Encoding.UTF8.GetBytes(t.Channel)), ("message on " + t.Channel, t.Payload) })))
        {
            foreach (var canary in canaries)
            {
                Assert.False(bytes.AsSpan().IndexOf(canary) >= 0, $"{what} holds a canary");
            }
        }

        // The core may name references in its logs; no value, of a secret or of the key, is in a log or a tag.
        var logged = logs.Collector.GetSnapshot().Select(r => r.Message + r.Exception + string.Join(",", r.StructuredState ?? [])).ToList();
        foreach (var text in logged.Concat(tags))
        {
            Assert.DoesNotContain(value, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToBase64String(key), text, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(tags, t => t.Contains(marker, StringComparison.Ordinal));
    }

    private static async Task WorkloadAsync(RedisSecondLevel[] fleet, string name, string value, string canonical)
    {
        var secret = new Secret(name, value) { VersionId = "v-" + Guid.NewGuid().ToString("N"), FetchedAt = TimeProvider.System.GetUtcNow() };
        var reads = fleet.SelectMany(level => Enumerable.Range(0, 4).Select(_ =>
            level.SingleFlight.GetOrFetchAsync(canonical, Ttl, _ => ValueTask.FromResult(secret)).AsTask()));
        Assert.All(await Task.WhenAll(reads), r => Assert.Equal(value, r.Entry.Secret.GetString()));
        await fleet[1].Store.WriteAsync(canonical + "?stage=AWSPREVIOUS", secret, Ttl);
        Assert.True((await fleet[2].Store.ReadAsync(canonical)).IsHit);
        foreach (var kind in new[] { BackplaneKind.Changed, BackplaneKind.Refreshed, BackplaneKind.Invalidated })
        {
            await fleet[0].Backplane.PublishAsync(kind, [(canonical, secret.VersionId)]);
        }

        await fleet[0].Backplane.PublishInvalidateAllAsync();
        await fleet[0].FleetLimiter.AcquireAsync(FleetQuota.SecretsManager);
        await fleet[1].FleetLimiter.AcquireAsync(FleetQuota.ParameterStore);
        await fleet[2].FleetLimiter.AcquireAsync(FleetQuota.SecretsManagerBatch);
        var (_, held) = await fleet[0].Lease.TryAcquireAsync(canonical + "?versionId=held-lease-0000000000000000000000");
        Assert.NotNull(held); // Left held, so a lease is among the keys scanned.
        await fleet[0].Store.ReadAsync("sm:" + name + "-absent");
    }

    /// <summary>Every key of the namespace: its name, its value by type, and its DUMP.</summary>
    private static async Task<List<(string What, byte[] Bytes)>> EverythingStoredAsync(ConnectionMultiplexer admin, string ns, bool leaseLeft = true)
    {
        var db = admin.GetDatabase();
        var found = new List<(string, byte[])>();
        await foreach (var redisKey in admin.GetServers()[0].KeysAsync(pattern: "*", pageSize: 100))
        {
            var keyName = redisKey.ToString();
            found.Add(("key name " + keyName, Encoding.UTF8.GetBytes(keyName)));
            var type = await db.KeyTypeAsync(redisKey);
            if (type == RedisType.String)
            {
                found.Add(("value of " + keyName, (byte[])(await db.StringGetAsync(redisKey))!));
            }
            else if (type == RedisType.Hash)
            {
                found.AddRange((await db.HashGetAllAsync(redisKey)).Select(e => ("hash of " + keyName, Encoding.UTF8.GetBytes(e.Name + "=" + e.Value))));
            }
            else if (type == RedisType.SortedSet)
            {
                found.AddRange((await db.SortedSetRangeByRankWithScoresAsync(redisKey)).Select(e => ("member of " + keyName, Encoding.UTF8.GetBytes(e.Element + "=" + e.Score))));
            }

            if (await db.KeyDumpAsync(redisKey) is { } dump)
            {
                found.Add(("dump of " + keyName, dump));
            }
        }

        Assert.Contains(found, f => f.Item1.Contains($"sc:{ns}:e:", StringComparison.Ordinal));
        Assert.Contains(found, f => f.Item1.StartsWith($"member of sc:{ns}:fleet", StringComparison.Ordinal)); // random ids only
        if (leaseLeft)
        {
            Assert.Contains(found, f => f.Item1.Contains($"sc:{ns}:l:", StringComparison.Ordinal));
        }

        Assert.Contains(found, f => f.Item1.Contains($"sc:{ns}:rl:", StringComparison.Ordinal));
        return found;
    }

    /// <summary>The text in UTF-8 and UTF-16, and the part of its base64 (and base64url) that does not depend on alignment.</summary>
    private static IEnumerable<byte[]> Forms(string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        yield return utf8;
        yield return Encoding.Unicode.GetBytes(text);
        for (var shift = 0; shift < 3; shift++)
        {
            var encoded = Convert.ToBase64String([.. new byte[shift], .. utf8]);
            var stable = encoded.Substring(4, encoded.Length - 8); // Drop the characters touched by the padding bytes and the end.
            yield return Encoding.ASCII.GetBytes(stable);
            yield return Encoding.ASCII.GetBytes(stable.Replace('+', '-').Replace('/', '_'));
        }
    }

    private static bool Seen(List<(string Channel, byte[] Payload)> traffic, string channel)
    {
        lock (traffic)
        {
            return traffic.Any(t => t.Channel == channel);
        }
    }

    private static MeterListener ListenToTags(IMeterFactory meters, List<string> tags)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == meters)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(ReadOnlySpan<KeyValuePair<string, object?>> measured)
        {
            foreach (var tag in measured)
            {
                lock (tags)
                {
                    tags.Add(tag.Key + "=" + tag.Value);
                }
            }
        }

        listener.SetMeasurementEventCallback<long>((_, _, measured, _) => Record(measured));
        listener.SetMeasurementEventCallback<double>((_, _, measured, _) => Record(measured));
        listener.Start();
        return listener;
    }
}

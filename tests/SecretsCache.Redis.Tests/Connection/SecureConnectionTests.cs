using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SecretsCache.Redis.Backplane;
using SecretsCache.Redis.FleetLimit;
using SecretsCache.Redis.Lease;
using SecretsCache.Redis.Storage;
using SecretsCache.Redis.Tests.Backplane;
using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;
using StackExchange.Redis;

namespace SecretsCache.Redis.Tests.Connection;

/// <summary>An ACL user confined to its namespace (its password a secret in AWS), and TLS (rediss://).</summary>
public sealed class SecureConnectionTests
{
    private const string Key = "sm:app/db";
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private readonly byte[] _key = Levels.NewKey();

    /// <summary>The ACL of docs/fleet.md: the namespace's keys and channels, and the commands the second level sends.</summary>
    internal static string[] AclFor(string user, string password, string @namespace, params string[] without) =>
    [
        "SETUSER", user, "reset", "on", ">" + password, $"~sc:{@namespace}:*", $"&sc:{@namespace}:*", "-@all",
        .. DocumentedCommands.Except(without).Select(c => "+" + c),
    ];

    /// <summary>The commands docs/fleet.md lists, word for word.</summary>
    internal static readonly string[] DocumentedCommands =
    [
        "get", "getrange", "set", "del", "unlink", "scan", "publish", "subscribe", "unsubscribe", "evalsha", "eval", "hmget", "hset", "pexpire", "pttl",
        "zadd", "zremrangebyscore", "zremrangebyrank", "zcard", "time", "ping", "echo", "info", "client|setname", "client|id", "cluster|nodes", "cluster|slots", "config|get", "hello",
    ];

    [RedisFact]
    public async Task An_ACL_user_confined_to_its_namespace_with_its_password_in_Secrets_Manager_can_do_everything()
    {
        await using var server = await RedisServer.StartNewAsync(s => s.AdminPassword = "admin-" + Guid.NewGuid().ToString("N"));
        await using var admin = await server.ConnectAdminAsync();
        await using var aws = await AwsEmulator.StartAsync();
        using var secrets = new SecretProvider(new SecretsCacheOptions().UseEmulator(aws));
        var password = "pw-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        aws.CreateSecret("redis/orders-password", password);
        await admin.GetServers()[0].ExecuteAsync("ACL", AclFor("orders-app", password, "orders"));
        await admin.GetServers()[0].ExecuteAsync("ACL", "LOG", "RESET");

        void Configure(RedisL2Options o)
        {
            o.User = "orders-app";
            o.PasswordSecret = "redis/orders-password";
        }

        await using var a = await Levels.CreateAsync(server, "orders", _key, Configure, keyProvider: secrets);
        await using var b = await Levels.CreateAsync(server, "orders", _key, Configure, keyProvider: secrets);
        b.Backplane.Track(Key);
        var received = RedisBackplaneTests.Collect(b)[0];

        Assert.True(await a.Store.WriteAsync(Key, Levels.Secret("app/db", "v", "version-1-000000000000000000000000", TimeProvider.System.GetUtcNow()), Ttl), await AclLogAsync(admin));
        Assert.True((await b.Store.ReadAsync(Key)).IsHit, await AclLogAsync(admin));
        var (status, handle) = await a.Lease.TryAcquireAsync("sm:app/other");
        Assert.Equal(LeaseStatus.Acquired, status);
        Assert.Equal(LeaseStatus.Held, (await b.Lease.TryAcquireAsync("sm:app/other")).Status); // the held path reads the lease's PTTL
        Assert.True(await a.Lease.ReleaseAsync(handle!));
        Assert.Equal(FleetPermitSource.Fleet, (await a.FleetLimiter.AcquireAsync(FleetQuota.ParameterStore)).Source);
        Assert.True(await a.Backplane.PublishAsync(BackplaneKind.Changed, [(Key, "v2")]));
        Assert.Equal(BackplaneKind.Changed, (await RedisBackplaneTests.NextAsync(received)).Kind);
        var log = await AclLogAsync(admin);
        Assert.True(log.Length == 0, log);
    }

    [RedisFact]
    public async Task With_the_documented_ACL_InvalidateAll_removes_every_entry_and_without_SCAN_it_warns_at_once_instead_of_hanging()
    {
        await using var server = await RedisServer.StartNewAsync(s => s.AdminPassword = "admin-" + Guid.NewGuid().ToString("N"));
        await using var admin = await server.ConnectAdminAsync();
        await admin.GetServers()[0].ExecuteAsync("ACL", AclFor("orders-app", "pw-orders", "orders"));
        await admin.GetServers()[0].ExecuteAsync("ACL", AclFor("billing-app", "pw-billing", "billing", without: "scan"));
        using var logs = new FakeLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        await using var orders = await Levels.CreateAsync(server, "orders", _key, o => (o.User, o.Password) = ("orders-app", "pw-orders"), loggers: loggers);
        await using var billing = await Levels.CreateAsync(server, "billing", _key, o => (o.User, o.Password) = ("billing-app", "pw-billing"), loggers: loggers);
        foreach (var level in new[] { orders, billing })
        {
            Assert.True(await level.Store.WriteAsync(Key, Levels.Secret("app/db", "v", "version-1-000000000000000000000000", TimeProvider.System.GetUtcNow()), Ttl));
            Assert.True(await level.Store.WriteAsync("sm:app/other", Levels.Secret("app/other", "v", "version-1-000000000000000000000000", TimeProvider.System.GetUtcNow()), Ttl));
        }

        Assert.True(await orders.Store.RemoveAllAsync(), await AclLogAsync(admin) + string.Join(" | ", logs.Collector.GetSnapshot().Select(l => l.Message)));
        Assert.Equal(L2MissReason.Absent, (await orders.Store.ReadAsync(Key)).Reason);
        Assert.Equal(L2MissReason.Absent, (await orders.Store.ReadAsync("sm:app/other")).Reason);
        Assert.DoesNotContain(logs.Collector.GetSnapshot(), l => l.Id.Id == 111);

        var started = TimeProvider.System.GetTimestamp();
        Assert.False(await billing.Store.RemoveAllAsync());
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(5), "a refused SCAN must not wait out the connect timeout");
        var warning = Assert.Single(logs.Collector.GetSnapshot(), l => l.Id.Id == 111);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("SCAN", warning.Message, StringComparison.Ordinal);
        // Per-key invalidation needs only DEL, so it still works; the entries InvalidateAll could not find are still there.
        Assert.True((await billing.Store.ReadAsync("sm:app/other")).IsHit);
        Assert.True(await billing.Store.RemoveAsync(Key));
        Assert.Equal(L2MissReason.Absent, (await billing.Store.ReadAsync(Key)).Reason);
    }

    private static async Task<string> AclLogAsync(ConnectionMultiplexer admin)
    {
        var denied = (RedisResult[])(await admin.GetServers()[0].ExecuteAsync("ACL", "LOG"))!;
        return string.Join(" | ", denied.Select(d => string.Join(",", ((RedisResult[])d!).Select(x => x.ToString()))));
    }

    [RedisFact]
    public async Task Another_namespace_or_a_wrong_password_is_refused_by_Redis_and_only_ever_a_miss()
    {
        await using var server = await RedisServer.StartNewAsync(s => s.AdminPassword = "admin-" + Guid.NewGuid().ToString("N"));
        await using var admin = await server.ConnectAdminAsync();
        await admin.GetServers()[0].ExecuteAsync("ACL", AclFor("orders-app", "right-password", "orders"));

        // Neither can subscribe: no waiting for it.
        await using var otherNamespace = await Levels.CreateAsync(server, "billing", _key, o => (o.User, o.Password, o.ConnectTimeout) = ("orders-app", "right-password", TimeSpan.FromSeconds(1)), waitForSubscriptions: false);
        await using var wrongPassword = await Levels.CreateAsync(server, "orders", _key, o => (o.User, o.Password, o.ConnectTimeout) = ("orders-app", "wrong-password", TimeSpan.FromSeconds(1)), waitForSubscriptions: false);

        foreach (var level in new[] { otherNamespace, wrongPassword })
        {
            Assert.False(await level.Store.WriteAsync(Key, Levels.Secret("app/db", "v", "version-1-000000000000000000000000", TimeProvider.System.GetUtcNow()), Ttl));
            Assert.Equal(L2MissReason.Unavailable, (await level.Store.ReadAsync(Key)).Reason);
            Assert.Equal(FleetPermitSource.Fallback, (await level.FleetLimiter.AcquireAsync(FleetQuota.ParameterStore)).Source);
        }
    }

    [RedisFact]
    public async Task Over_TLS_with_a_rediss_uri_the_level_works_and_an_untrusted_certificate_is_only_ever_a_miss()
    {
        using var certificate = SelfSigned();
        await using var server = await RedisServer.StartNewAsync(s =>
        {
            s.Port = RedisServer.FreePort();
            var folder = Path.Combine(Path.GetTempPath(), "secretscache-tls-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "cert.pem"), certificate.ExportCertificatePem());
            File.WriteAllText(Path.Combine(folder, "key.pem"), certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
            s.EnableTls = (Path.Combine(folder, "cert.pem"), Path.Combine(folder, "key.pem"));
        });
        var uri = $"rediss://127.0.0.1:{server.TlsPort}";
        var ns = Levels.NewNamespace();

        await using var trusted = await RedisSecondLevel.CreateAsync(Levels.Options(uri, ns, _key, o => o.ConfigureConnection = c =>
            c.CertificateValidation += (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString()));
        await using var untrusted = await RedisSecondLevel.CreateAsync(Levels.Options(uri, ns, _key, o => o.ConnectTimeout = TimeSpan.FromSeconds(2)));

        Assert.True(await trusted.Store.WriteAsync(Key, Levels.Secret("app/db", "over-tls", "version-1-000000000000000000000000", TimeProvider.System.GetUtcNow()), Ttl));
        Assert.Equal("over-tls", (await trusted.Store.ReadAsync(Key)).Entry!.Secret.GetString());
        Assert.Equal(L2MissReason.Unavailable, (await untrusted.Store.ReadAsync(Key)).Reason);
        Assert.True(trusted.Connection.Multiplexer.IsConnected);
    }

    private static X509Certificate2 SelfSigned()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
#if NET9_0_OR_GREATER
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.Exportable);
#else
        return new X509Certificate2(created.Export(X509ContentType.Pkcs12), (string?)null, X509KeyStorageFlags.Exportable);
#endif
    }
}

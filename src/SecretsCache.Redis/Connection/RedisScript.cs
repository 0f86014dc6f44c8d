using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace SecretsCache.Redis.Connection;

/// <summary>
/// A Lua script run by its SHA-1 (EVALSHA), and sent whole (EVAL) only when the server does not know it: after a restart,
/// a failover, or <c>SCRIPT FLUSH</c>. EVAL loads it into the script cache, so the next call is an EVALSHA again.
/// </summary>
internal sealed class RedisScript
{
    private readonly byte[] _sha1;

    public RedisScript(string source)
    {
        Source = source;
#pragma warning disable CA5350 // SHA-1 is how Redis names scripts (EVALSHA); it protects nothing here.
        _sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(source));
#pragma warning restore CA5350
    }

    public string Source { get; }

    public string Sha1Hex => Convert.ToHexString(_sha1).ToLowerInvariant();

    public async Task<RedisResult> EvaluateAsync(IDatabase database, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await database.ScriptEvaluateAsync(_sha1, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // EVAL itself (not the client's SCRIPT LOAD + EVALSHA): one round trip, and no SCRIPT permission needed.
            var arguments = new List<object>(2 + keys.Length + values.Length) { Source, keys.Length };
            arguments.AddRange(keys.Select(k => (object)k));
            arguments.AddRange(values.Select(v => (object)v));
            return await database.ExecuteAsync("EVAL", arguments).ConfigureAwait(false);
        }
    }
}

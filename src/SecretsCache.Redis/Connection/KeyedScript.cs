using StackExchange.Redis;

namespace SecretsCache.Redis.Connection;

/// <summary>
/// A Lua script that does the same to each of its keys and answers one element per key, run over many keys in as few
/// commands as the server allows: one per <see cref="MaxKeysPerCommand"/> keys on a single server (standalone, or the primary
/// of a replicated or Sentinel set), one per key on a cluster or a proxy, where the keys of one command must share a hash
/// slot (and a namespace's names, HMACs, spread over them all). A warm-up of fifty keys is then a few commands per step, not
/// fifty: each command is a task, a reply to match and a continuation in this process. The script's arguments are the shared
/// ones, then each key's own, <c>argumentsPerKey</c> of them, in key order.
/// </summary>
internal sealed class KeyedScript(string source)
{
    /// <summary>A script blocks the server while it runs: a hundred short commands at most (tens of microseconds).</summary>
    internal const int MaxKeysPerCommand = 100;

    /// <summary>
    /// A Lua function for scripts over many keys: <c>redis.pcall</c>, but another type planted under the key answers false
    /// (that key's answer, not an error for them all), and any other error (an ACL's NOPERM, a failing server) comes back
    /// second, for the script to return as its own.
    /// </summary>
    internal const string CallOrFalseFunction = """
        local function call_or_false(...)
          local value = redis.pcall(...)
          if type(value) == 'table' and value.err then
            if string.find(value.err, 'WRONGTYPE', 1, true) then return false end
            return nil, value
          end
          return value
        end

        """;

    private readonly RedisScript _script = new(source);

    /// <summary>The script's answers, one per name of <paramref name="names"/>, in order; throws when a reply has another shape.</summary>
    public Task<RedisResult[]> EvaluateAsync(IConnectionMultiplexer multiplexer, RedisKey[] names, RedisValue[] shared, RedisValue[] perKey, int argumentsPerKey) =>
        EvaluateAsync(multiplexer, names, shared, perKey, argumentsPerKey, namesPerItem: 1, answersPerItem: 1);

    /// <summary>
    /// As above, for a script whose items each have <paramref name="namesPerItem"/> names and <paramref name="answersPerItem"/>
    /// answers. An item's names must share a slot where the server asks it: on a cluster each command is one item.
    /// </summary>
    public async Task<RedisResult[]> EvaluateAsync(
        IConnectionMultiplexer multiplexer, RedisKey[] names, RedisValue[] shared, RedisValue[] perKey, int argumentsPerKey, int namesPerItem, int answersPerItem)
    {
        var items = names.Length / namesPerItem;
        var answers = new RedisResult[items * answersPerItem];
        if (items == 0)
        {
            return answers;
        }

        var database = multiplexer.GetDatabase();
        var size = SharesOneServer(multiplexer) ? MaxKeysPerCommand : 1;
        var commands = new Task[(items + size - 1) / size];
        for (var c = 0; c < commands.Length; c++)
        {
            commands[c] = RunAsync(c * size, Math.Min(size, items - (c * size)));
        }

        await Task.WhenAll(commands).ConfigureAwait(false);
        return answers;

        async Task RunAsync(int first, int count)
        {
            var arguments = new RedisValue[shared.Length + (count * argumentsPerKey)];
            shared.CopyTo(arguments, 0);
            Array.Copy(perKey, first * argumentsPerKey, arguments, shared.Length, count * argumentsPerKey);
            var reply = await _script.EvaluateAsync(database, names[(first * namesPerItem)..((first + count) * namesPerItem)], arguments).ConfigureAwait(false);
            if (reply.Resp2Type != ResultType.Array || reply.Length != count * answersPerItem)
            {
                throw new RedisException("A script over many keys answered in an unexpected shape.");
            }

            for (var i = 0; i < count * answersPerItem; i++)
            {
                answers[(first * answersPerItem) + i] = reply[i];
            }
        }
    }

    /// <summary>A script's 1 or 0 per key; anything else is a reply this library did not ask for, and fails the call.</summary>
    public static bool[] Flags(RedisResult[] answers) =>
        [.. answers.Select(static a => a.Resp2Type == ResultType.Integer && (long)a is 0 or 1
            ? (long)a == 1
            : throw new RedisException("A script over many keys answered a key with something other than 1 or 0."))];

    /// <summary>
    /// Whether every server of the connection is a plain Redis (not a cluster node, a proxy or a sentinel): then all of a
    /// command's keys live on the one primary. Per server, as each reported itself when connected.
    /// </summary>
    public static bool SharesOneServer(IConnectionMultiplexer multiplexer)
    {
        var servers = multiplexer.GetServers();
        return servers.Length > 0 && Array.TrueForAll(servers, static s => s.ServerType == ServerType.Standalone);
    }
}

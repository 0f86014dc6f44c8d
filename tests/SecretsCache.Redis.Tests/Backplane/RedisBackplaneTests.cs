using System.Threading.Channels;
using SecretsCache.Redis.Backplane;
using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Tests.Support;
using StackExchange.Redis;

namespace SecretsCache.Redis.Tests.Backplane;

[Collection(RedisCollection.Name)]
public sealed class RedisBackplaneTests(RedisServer server)
{
    private const string Key = "sm:app/db";
    private const string Version = "a1b2c3d4-0000-4000-8000-000000000001";
    private readonly string _ns = Levels.NewNamespace();
    private readonly byte[] _key = Levels.NewKey();

    /// <summary>The send time of hand-made messages: the levels here run on the system clock.</summary>
    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    [RedisFact]
    public async Task A_change_reaches_the_other_instances_that_hold_the_key_with_its_version_but_not_the_sender()
    {
        var fleet = await Levels.FleetAsync(server, 3, _ns, _key);
        try
        {
            var (sender, holder, bystander) = (fleet[0], fleet[1], fleet[2]);
            sender.Backplane.Track(Key);
            holder.Backplane.Track(Key);
            bystander.Backplane.Track("sm:app/other");
            var received = Collect(sender, holder, bystander);

            Assert.True(await sender.Backplane.PublishAsync(BackplaneKind.Changed, [(Key, Version), ("sm:app/unheld", "v")]));
            // A fence from another instance: Redis delivers in order, so whoever receives it has received everything before it.
            Assert.True(await holder.Backplane.PublishInvalidateAllAsync());

            var atHolder = await NextAsync(received[1]);
            Assert.Equal(BackplaneKind.Changed, atHolder.Kind);
            Assert.Equal([(Key, (string?)Version)], atHolder.Keys);
            // The sender ignores its own change, and the bystander holds neither key: the fence is the first thing both hear.
            Assert.Equal(BackplaneKind.InvalidatedAll, (await NextAsync(received[0])).Kind);
            Assert.Equal(BackplaneKind.InvalidatedAll, (await NextAsync(received[2])).Kind);
            Assert.False(received[1].Reader.TryRead(out _)); // Nor does the holder hear its own fence.
        }
        finally
        {
            await Levels.DisposeAllAsync(fleet);
        }
    }

    [RedisFact]
    public async Task Every_kind_arrives_and_an_untracked_key_stops_arriving()
    {
        var fleet = await Levels.FleetAsync(server, 2, _ns, _key);
        try
        {
            fleet[1].Backplane.Track(Key);
            var received = Collect(fleet[1]);

            foreach (var kind in new[] { BackplaneKind.Changed, BackplaneKind.Invalidated, BackplaneKind.Refreshed })
            {
                await fleet[0].Backplane.PublishAsync(kind, [(Key, kind == BackplaneKind.Invalidated ? null : Version)]);
                var message = await NextAsync(received[0]);
                Assert.Equal(kind, message.Kind);
                Assert.Equal(Key, message.Keys.Single().CanonicalKey);
            }

            fleet[1].Backplane.Untrack(Key);
            await fleet[0].Backplane.PublishAsync(BackplaneKind.Changed, [(Key, Version)]);
            await fleet[0].Backplane.PublishInvalidateAllAsync();
            Assert.Equal(BackplaneKind.InvalidatedAll, (await NextAsync(received[0])).Kind);
        }
        finally
        {
            await Levels.DisposeAllAsync(fleet);
        }
    }

    [RedisFact]
    public async Task A_batch_larger_than_one_message_arrives_whole()
    {
        var fleet = await Levels.FleetAsync(server, 2, _ns, _key);
        try
        {
            var keys = Enumerable.Range(0, 600).Select(i => ($"sm:app/key-{i}", (string?)$"version-{i}")).ToArray();
            foreach (var (key, _) in keys)
            {
                fleet[1].Backplane.Track(key);
            }

            var received = Collect(fleet[1]);
            await fleet[0].Backplane.PublishAsync(BackplaneKind.Refreshed, keys);

            var all = new List<(string, string?)>();
            while (all.Count < keys.Length)
            {
                all.AddRange((await NextAsync(received[0])).Keys);
            }

            Assert.Equal(keys.OrderBy(k => k.Item1, StringComparer.Ordinal), all.OrderBy(k => k.Item1, StringComparer.Ordinal));
        }
        finally
        {
            await Levels.DisposeAllAsync(fleet);
        }
    }

    [RedisFact]
    public async Task Forged_replayed_into_another_namespace_and_malformed_messages_are_dropped()
    {
        var fleet = await Levels.FleetAsync(server, 2, _ns, _key);
        var otherNamespace = await Levels.CreateAsync(server, Levels.NewNamespace(), _key);
        await using var admin = await server.ConnectAdminAsync();
        try
        {
            fleet[1].Backplane.Track(Key);
            var received = Collect(fleet[1]);
            var ring = fleet[0].Connection.Keys.Ring!;
            var genuine = BackplaneCodec.Encode(ring.Current, BackplaneKind.InvalidatedAll, Guid.NewGuid(), [], Now);
            var forged = (byte[])genuine.Clone();
            forged[^1] ^= 1;
            var foreign = BackplaneCodec.Encode(KeyRing.Create(_ns, Levels.NewKey(), []).Current, BackplaneKind.InvalidatedAll, Guid.NewGuid(), [], Now);
            var channel = fleet[0].Connection.Names.BackplaneChannel;

            await admin.GetSubscriber().PublishAsync(channel, forged);
            await admin.GetSubscriber().PublishAsync(channel, foreign);
            await admin.GetSubscriber().PublishAsync(channel, "garbage");
            await admin.GetSubscriber().PublishAsync(channel, Array.Empty<byte>());
            // A genuine message of another namespace (same master key) replayed here: its key id is not this namespace's.
            await admin.GetSubscriber().PublishAsync(channel, BackplaneCodec.Encode(otherNamespace.Connection.Keys.Ring!.Current, BackplaneKind.InvalidatedAll, Guid.NewGuid(), [], Now));
            await fleet[0].Backplane.PublishAsync(BackplaneKind.Changed, [(Key, Version)]);

            Assert.Equal(BackplaneKind.Changed, (await NextAsync(received[0])).Kind);
            Assert.False(received[0].Reader.TryRead(out _));
        }
        finally
        {
            await Levels.DisposeAllAsync(fleet);
            await otherNamespace.DisposeAsync();
        }
    }

    [Fact]
    public void Decoding_every_truncation_and_bit_flip_rejects_without_throwing()
    {
        var ring = KeyRing.Create("n", Levels.NewKey(), []);
        var message = BackplaneCodec.Encode(ring.Current, BackplaneKind.Changed, Guid.NewGuid(), [new BackplaneItem(new byte[32], Version)], Now);

        Assert.NotNull(BackplaneCodec.Decode(ring, message).Message);
        for (var length = 0; length < message.Length; length++)
        {
            Assert.Null(BackplaneCodec.Decode(ring, message.AsSpan(0, length)).Message);
        }

        for (var i = 0; i < message.Length; i++)
        {
            var flipped = (byte[])message.Clone();
            flipped[i] ^= 0x10;
            Assert.Null(BackplaneCodec.Decode(ring, flipped).Message);
        }
    }

    [Fact]
    public void A_message_longer_than_the_longest_is_dropped_before_it_is_authenticated()
    {
        var ring = KeyRing.Create("n", Levels.NewKey(), []);
        var longest = BackplaneCodec.Encode(ring.Current, BackplaneKind.Changed, Guid.NewGuid(),
            [.. Enumerable.Range(0, BackplaneCodec.MaxItems).Select(i => new BackplaneItem(new byte[32], new string('v', 255)))], Now);
        Assert.Equal(BackplaneCodec.MaxLength, longest.Length);
        Assert.NotNull(BackplaneCodec.Decode(ring, longest).Message);

        var huge = new byte[BackplaneCodec.MaxLength + 1];
        longest.CopyTo(huge, 0); // the header of a genuine message, under a key this instance has

        Assert.Equal(MessageRejection.Malformed, BackplaneCodec.Decode(ring, huge).Rejection);
    }

    [RedisFact]
    public async Task A_flood_of_huge_and_forged_messages_is_dropped_and_a_genuine_one_still_arrives()
    {
        var fleet = await Levels.FleetAsync(server, 2, _ns, _key);
        await using var admin = await server.ConnectAdminAsync();
        try
        {
            fleet[1].Backplane.Track(Key);
            var received = Collect(fleet[1]);
            var channel = fleet[0].Connection.Names.BackplaneChannel;
            var huge = new byte[1024 * 1024];
            BackplaneCodec.Encode(fleet[0].Connection.Keys.Ring!.Current, BackplaneKind.InvalidatedAll, Guid.NewGuid(), [], Now).CopyTo(huge, 0);
            for (var i = 0; i < 50; i++)
            {
                await admin.GetSubscriber().PublishAsync(channel, huge);
            }

            await fleet[0].Backplane.PublishAsync(BackplaneKind.Changed, [(Key, Version)]);

            Assert.Equal(BackplaneKind.Changed, (await NextAsync(received[0])).Kind);
            Assert.False(received[0].Reader.TryRead(out _));
        }
        finally
        {
            await Levels.DisposeAllAsync(fleet);
        }
    }

    [RedisFact]
    public async Task A_subscriber_that_throws_does_not_stop_delivery()
    {
        var fleet = await Levels.FleetAsync(server, 2, _ns, _key);
        try
        {
            var calls = 0;
            fleet[1].Backplane.Received += (_, _) =>
            {
                Interlocked.Increment(ref calls);
                throw new InvalidOperationException("a subscriber's bug");
            };
            var received = Collect(fleet[1]);

            await fleet[0].Backplane.PublishInvalidateAllAsync();
            await fleet[0].Backplane.PublishInvalidateAllAsync();

            await NextAsync(received[0]);
            await NextAsync(received[0]);
            Assert.Equal(2, Volatile.Read(ref calls));
        }
        finally
        {
            await Levels.DisposeAllAsync(fleet);
        }
    }

    internal static Channel<BackplaneEvent>[] Collect(params RedisSecondLevel[] levels) => levels.Select(level =>
    {
        var channel = Channel.CreateUnbounded<BackplaneEvent>();
        level.Backplane.Received += (_, e) => channel.Writer.TryWrite(e);
        return channel;
    }).ToArray();

    internal static async Task<BackplaneEvent> NextAsync(Channel<BackplaneEvent> channel) =>
        await channel.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
}

using SecretsCache.Redis.Backplane;
using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Lease;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Encryption;

/// <summary>The frame both channels share: send time and id under the tag, a label per channel, the first format refused.</summary>
public sealed class SealedMessageTests
{
    private static readonly DateTimeOffset SentAt = new(2026, 12, 1, 12, 0, 0, 250, TimeSpan.Zero);
    private readonly KeyRing _ring = KeyRing.Create("n", Levels.NewKey(), []);

    [Fact]
    public void A_lease_result_carries_its_outcome_key_hash_send_time_and_a_fresh_id()
    {
        var hash = RedisNames.Hash(_ring.Current, "sm:app/db");

        var first = LeaseResults.Decode(_ring, LeaseResults.Encode(_ring.Current, LeaseOutcome.Failed, hash, SentAt));
        var second = LeaseResults.Decode(_ring, LeaseResults.Encode(_ring.Current, LeaseOutcome.Failed, hash, SentAt));

        Assert.Equal(MessageRejection.None, first.Rejection);
        Assert.Equal(LeaseOutcome.Failed, first.Outcome);
        Assert.Equal(hash, Assert.Single(first.Hashes!));
        Assert.Equal(SentAt.ToUnixTimeMilliseconds(), first.Opened.Stamp.SentAtMs);
        Assert.Equal(_ring.Current.Id, first.Opened.KeyId);
        Assert.NotEqual(first.Opened.Stamp.Id, second.Opened.Stamp.Id);
    }

    [Fact]
    public void Decoding_every_truncation_and_bit_flip_of_a_lease_result_rejects_without_throwing()
    {
        var message = LeaseResults.Encode(_ring.Current, LeaseOutcome.Fetched, RedisNames.Hash(_ring.Current, "sm:app/db"), SentAt);

        for (var length = 0; length < message.Length; length++)
        {
            Assert.NotEqual(MessageRejection.None, LeaseResults.Decode(_ring, message.AsSpan(0, length)).Rejection);
        }

        for (var i = 0; i < message.Length; i++)
        {
            var flipped = (byte[])message.Clone();
            flipped[i] ^= 0x10;
            Assert.NotEqual(MessageRejection.None, LeaseResults.Decode(_ring, flipped).Rejection);
        }

        Assert.NotEqual(MessageRejection.None, LeaseResults.Decode(_ring, [.. message, 0]).Rejection);
    }

    [Fact]
    public void A_message_sealed_for_one_channel_does_not_open_on_another()
    {
        byte[] backplane = [.. "secretscache-redis/v2/backplane"u8], results = [.. "secretscache-redis/v2/lease-result"u8];
        var message = SealedMessage.Seal(_ring.Current, backplane, 2, SentAt, new byte[32]);

        Assert.Equal(MessageRejection.None, SealedMessage.Open(_ring, backplane, message, 1024, out _));
        Assert.Equal(MessageRejection.Forged, SealedMessage.Open(_ring, results, message, 1024, out _));
        Assert.Equal(MessageRejection.Forged, LeaseResults.Decode(_ring, message).Rejection); // same shape as a result, other label
    }

    [Fact]
    public void A_message_of_the_first_format_is_refused_as_such_whatever_it_holds()
    {
        var hash = RedisNames.Hash(_ring.Current, "sm:app/db");

        Assert.Equal(MessageRejection.FirstFormat, LeaseResults.Decode(_ring, [1, (byte)LeaseOutcome.Failed, .. hash]).Rejection);
        var firstBackplane = new byte[28 + 16]; // format 1 | kind | sender | key id | count 0 | tag: an InvalidatedAll of the first format
        firstBackplane[0] = 1;
        firstBackplane[1] = (byte)BackplaneKind.InvalidatedAll;
        Assert.Equal(MessageRejection.FirstFormat, BackplaneCodec.Decode(_ring, firstBackplane).Rejection);
        Assert.Equal(MessageRejection.Malformed, BackplaneCodec.Decode(_ring, [3, .. firstBackplane.AsSpan(1), .. new byte[20]]).Rejection);
    }

    [Fact]
    public void A_result_of_many_keys_names_each_and_a_body_that_is_not_whole_hashes_is_malformed()
    {
        var hashes = Enumerable.Range(0, LeaseResults.MaxKeysPerMessage).Select(i => RedisNames.Hash(_ring.Current, $"sm:app/s{i}")).ToArray();

        var decoded = LeaseResults.Decode(_ring, LeaseResults.Encode(_ring.Current, LeaseOutcome.Fetched, hashes, SentAt));

        Assert.Equal(MessageRejection.None, decoded.Rejection);
        Assert.Equal(hashes, decoded.Hashes);
        Assert.Throws<ArgumentException>(() => LeaseResults.Encode(_ring.Current, LeaseOutcome.Fetched, [.. hashes, hashes[0]], SentAt));
        Assert.Throws<ArgumentException>(() => LeaseResults.Encode(_ring.Current, LeaseOutcome.Fetched, Array.Empty<byte[]>(), SentAt));
        foreach (var body in (int[])[0, 31, 33, 32 * (LeaseResults.MaxKeysPerMessage + 1)])
        {
            var sealedBody = SealedMessage.Seal(_ring.Current, LeaseResults.Label, (byte)LeaseOutcome.Fetched, SentAt, new byte[body]);
            Assert.Equal(MessageRejection.Malformed, LeaseResults.Decode(_ring, sealedBody).Rejection);
        }
    }

    [Fact]
    public void The_send_time_and_id_are_under_the_tag()
    {
        var message = LeaseResults.Encode(_ring.Current, LeaseOutcome.Fetched, new byte[32], SentAt);
        for (var i = 10; i < SealedMessage.HeaderSize; i++) // send time (10..17), id (18..33)
        {
            var changed = (byte[])message.Clone();
            changed[i] ^= 1;
            Assert.Equal(MessageRejection.Forged, LeaseResults.Decode(_ring, changed).Rejection);
        }
    }
}

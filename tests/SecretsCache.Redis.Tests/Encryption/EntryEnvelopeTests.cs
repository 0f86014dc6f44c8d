using System.Buffers.Binary;
using System.Text;
using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Encryption;

public sealed class EntryEnvelopeTests
{
    private const string Ns = "orders";
    private const string Key = "sm:app/db";
    private static readonly DateTimeOffset Fetched = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly byte[] _master = Levels.NewKey();

    private KeyRing Ring => KeyRing.Create(Ns, _master, []);

    private static L2Entry Entry(Secret secret, TimeSpan? ttl = null) => new(secret, Fetched, Fetched + (ttl ?? TimeSpan.FromMinutes(5)));

    private static Secret StringSecret() => Levels.Secret("app/db", "{\"password\":\"hunter2\"}", "0f5e3c6a-8b4d-4a4e-9a39-5b7f1c2d3e4f", Fetched);

    [Fact]
    public void A_string_secret_round_trips_with_its_metadata()
    {
        var secret = StringSecret();
        var envelope = EntryEnvelope.Seal(Ring.Current, Ns, Key, Entry(secret));

        var opened = EntryEnvelope.Open(Ring, Ns, Key, envelope, Fetched.AddMinutes(1));

        Assert.Equal(OpenFailure.None, opened.Failure);
        var entry = opened.Entry!;
        Assert.Equal(secret.GetString(), entry.Secret.GetString());
        Assert.Equal(secret.Name, entry.Secret.Name);
        Assert.Equal(secret.Arn, entry.Secret.Arn);
        Assert.Equal(secret.VersionId, entry.Secret.VersionId);
        Assert.Equal(secret.VersionStages, entry.Secret.VersionStages);
        Assert.False(entry.Secret.IsBinary);
        Assert.Equal(Fetched, entry.FetchedAt);
        Assert.Equal(Fetched, entry.Secret.FetchedAt);
        Assert.Equal(Fetched.AddMinutes(5), entry.ExpiresAt);
        Assert.Equal(secret.VersionId, entry.Version);
    }

    [Fact]
    public void The_largest_secret_AWS_allows_seals_within_the_bound_and_a_longer_one_is_refused()
    {
        // 65,536 characters of three UTF-8 bytes each, the longest name and ARN, 20 stages of 256 characters.
        var largest = new Secret(new string('n', 2_048), new string('\u20AC', 65_536))
        {
            Arn = new string('a', 2_048),
            VersionId = new string('v', 64),
            VersionStages = [.. Enumerable.Range(0, 20).Select(i => new string((char)('A' + i), 256))],
            FetchedAt = Fetched,
        };
        var envelope = EntryEnvelope.Seal(Ring.Current, Ns, Key, Entry(largest));

        Assert.InRange(envelope.Length, 1, EntryEnvelope.MaxLength);
        Assert.Equal(largest.GetString(), EntryEnvelope.Open(Ring, Ns, Key, envelope, Fetched).Entry!.Secret.GetString());
        var tooLong = new Secret("app/huge", new string('x', EntryEnvelope.MaxLength)) { FetchedAt = Fetched };
        Assert.Throws<ArgumentException>(() => EntryEnvelope.Seal(Ring.Current, Ns, Key, Entry(tooLong)));
    }

    [Fact]
    public void Bytes_longer_than_the_longest_envelope_are_malformed_before_any_decryption()
    {
        var envelope = new byte[EntryEnvelope.MaxLength + 1];
        envelope[0] = EntryEnvelope.Format;
        BinaryPrimitives.WriteUInt64BigEndian(envelope.AsSpan(1), Ring.Current.Id); // a key this instance has

        Assert.Equal(OpenFailure.Malformed, EntryEnvelope.Open(Ring, Ns, Key, envelope, Fetched).Failure);
    }

    [Fact]
    public void A_binary_secret_and_a_parameter_round_trip()
    {
        var binary = new Secret("app/cert", new byte[] { 0, 1, 2, 255, 128 }) { VersionId = "v-binary-000000000000000000000000001", FetchedAt = Fetched };
        var parameter = new Secret("/app/url", "https://example.com") { ParameterVersion = 7, FetchedAt = Fetched };

        var openedBinary = EntryEnvelope.Open(Ring, Ns, "sm:app/cert", EntryEnvelope.Seal(Ring.Current, Ns, "sm:app/cert", Entry(binary)), Fetched).Entry!;
        var openedParameter = EntryEnvelope.Open(Ring, Ns, "ssm:/app/url", EntryEnvelope.Seal(Ring.Current, Ns, "ssm:/app/url", Entry(parameter)), Fetched).Entry!;

        Assert.True(openedBinary.Secret.IsBinary);
        Assert.Equal(new byte[] { 0, 1, 2, 255, 128 }, openedBinary.Secret.GetBytes().ToArray());
        Assert.Equal(7, openedParameter.Secret.ParameterVersion);
        Assert.Null(openedParameter.Secret.VersionId);
        Assert.Equal("7", openedParameter.Version);
        Assert.Equal("https://example.com", openedParameter.Secret.GetString());
    }

    [Fact]
    public void The_envelope_holds_neither_the_value_nor_the_name_in_clear()
    {
        var envelope = EntryEnvelope.Seal(Ring.Current, Ns, Key, Entry(StringSecret()));

        Assert.DoesNotContain("hunter2", Encoding.UTF8.GetString(envelope), StringComparison.Ordinal);
        Assert.DoesNotContain("app/db", Encoding.UTF8.GetString(envelope), StringComparison.Ordinal);
    }

    [Fact]
    public void Two_seals_of_one_entry_differ_by_their_random_nonce()
    {
        var entry = Entry(StringSecret());

        Assert.NotEqual(EntryEnvelope.Seal(Ring.Current, Ns, Key, entry), EntryEnvelope.Seal(Ring.Current, Ns, Key, entry));
    }

    [Fact]
    public void Flipping_any_byte_after_the_key_id_makes_it_a_forgery_or_malformed_never_an_exception()
    {
        var envelope = EntryEnvelope.Seal(Ring.Current, Ns, Key, Entry(StringSecret()));

        for (var i = 9; i < envelope.Length; i++)
        {
            var tampered = (byte[])envelope.Clone();
            tampered[i] ^= 0x01;
            var opened = EntryEnvelope.Open(Ring, Ns, Key, tampered, Fetched);
            Assert.Null(opened.Entry);
            // The version length byte (37) changes where the header ends: either the lengths no longer add up or the tag fails.
            Assert.True(opened.Failure is OpenFailure.Forged or OpenFailure.Malformed, $"byte {i}: {opened.Failure}");
            if (i != 37)
            {
                Assert.Equal(OpenFailure.Forged, opened.Failure);
            }
        }
    }

    [Fact]
    public void A_tampered_tag_is_a_forgery()
    {
        var envelope = EntryEnvelope.Seal(Ring.Current, Ns, Key, Entry(StringSecret()));
        envelope[^1] ^= 0x80;

        Assert.Equal(OpenFailure.Forged, EntryEnvelope.Open(Ring, Ns, Key, envelope, Fetched).Failure);
    }

    [Fact]
    public void An_entry_copied_under_another_key_or_namespace_does_not_open()
    {
        var envelope = EntryEnvelope.Seal(Ring.Current, Ns, Key, Entry(StringSecret()));

        Assert.Equal(OpenFailure.Forged, EntryEnvelope.Open(Ring, Ns, "sm:app/other", envelope, Fetched).Failure);
        Assert.Equal(OpenFailure.Forged, EntryEnvelope.Open(Ring, Ns, "sm:app/db?stage=AWSPREVIOUS", envelope, Fetched).Failure);
        // Another namespace derives other keys from the same master key: its key id is not this one.
        var otherNamespace = KeyRing.Create("billing", _master, []);
        Assert.Equal(OpenFailure.UnknownKey, EntryEnvelope.Open(otherNamespace, "billing", Key, envelope, Fetched).Failure);
    }

    [Fact]
    public void An_expired_entry_does_not_open_and_cannot_be_revived_by_rewriting_its_expiry()
    {
        var envelope = EntryEnvelope.Seal(Ring.Current, Ns, Key, Entry(StringSecret(), TimeSpan.FromMinutes(5)));
        var later = Fetched.AddMinutes(6);

        Assert.Equal(OpenFailure.Expired, EntryEnvelope.Open(Ring, Ns, Key, envelope, later).Failure);
        Assert.Equal(OpenFailure.Expired, EntryEnvelope.Open(Ring, Ns, Key, envelope, Fetched.AddMinutes(5)).Failure);

        var revived = (byte[])envelope.Clone();
        BinaryPrimitives.WriteInt64BigEndian(revived.AsSpan(29), Fetched.AddDays(1).ToUnixTimeMilliseconds());
        Assert.Equal(OpenFailure.Forged, EntryEnvelope.Open(Ring, Ns, Key, revived, later).Failure);

        var refetched = (byte[])envelope.Clone(); // Claiming a later fetch time is a forgery too.
        BinaryPrimitives.WriteInt64BigEndian(refetched.AsSpan(21), Fetched.AddMinutes(4).ToUnixTimeMilliseconds());
        Assert.Equal(OpenFailure.Forged, EntryEnvelope.Open(Ring, Ns, Key, refetched, Fetched).Failure);
    }

    [Fact]
    public void A_version_other_than_the_one_asked_for_is_a_miss()
    {
        var envelope = EntryEnvelope.Seal(Ring.Current, Ns, Key, Entry(StringSecret()));

        Assert.Equal(OpenFailure.VersionMismatch, EntryEnvelope.Open(Ring, Ns, Key, envelope, Fetched, expectedVersion: "another-version-id-000000000000000").Failure);
        Assert.Equal(OpenFailure.None, EntryEnvelope.Open(Ring, Ns, Key, envelope, Fetched, expectedVersion: StringSecret().VersionId).Failure);
    }

    [Fact]
    public void An_entry_under_a_foreign_key_is_an_unknown_key_and_a_forged_key_id_is_a_forgery()
    {
        var foreign = KeyRing.Create(Ns, Levels.NewKey(), []);
        var envelope = EntryEnvelope.Seal(foreign.Current, Ns, Key, Entry(StringSecret()));

        var opened = EntryEnvelope.Open(Ring, Ns, Key, envelope, Fetched);
        Assert.Equal(OpenFailure.UnknownKey, opened.Failure);
        Assert.Equal(foreign.Current.Id, opened.KeyId);

        // The foreign envelope relabelled with our key id: the tag does not authenticate under our key.
        BinaryPrimitives.WriteUInt64BigEndian(envelope.AsSpan(1), Ring.Current.Id);
        Assert.Equal(OpenFailure.Forged, EntryEnvelope.Open(Ring, Ns, Key, envelope, Fetched).Failure);
    }

    [Fact]
    public void After_a_rotation_old_entries_open_with_the_previous_key_and_new_ones_are_sealed_with_the_current_key()
    {
        var oldRing = Ring;
        var newMaster = Levels.NewKey();
        var rotated = KeyRing.Create(Ns, newMaster, [_master]);
        var old = EntryEnvelope.Seal(oldRing.Current, Ns, Key, Entry(StringSecret()));

        var fresh = EntryEnvelope.Seal(rotated.Current, Ns, Key, Entry(StringSecret()));

        Assert.Equal(OpenFailure.None, EntryEnvelope.Open(rotated, Ns, Key, old, Fetched).Failure);
        Assert.Equal(rotated.Current.Id, BinaryPrimitives.ReadUInt64BigEndian(fresh.AsSpan(1)));
        Assert.NotEqual(oldRing.Current.Id, rotated.Current.Id);
        Assert.Equal(OpenFailure.None, EntryEnvelope.Open(rotated, Ns, Key, fresh, Fetched).Failure);
        // An instance that has not loaded the new key yet cannot open the new entry, and says which key it lacks.
        Assert.Equal(OpenFailure.UnknownKey, EntryEnvelope.Open(oldRing, Ns, Key, fresh, Fetched).Failure);
        // Once the previous key is dropped from the ring, its entries no longer open.
        Assert.Equal(OpenFailure.UnknownKey, EntryEnvelope.Open(KeyRing.Create(Ns, newMaster, []), Ns, Key, old, Fetched).Failure);
    }

    [Fact]
    public void Truncations_and_random_bytes_are_misses_never_exceptions()
    {
        var envelope = EntryEnvelope.Seal(Ring.Current, Ns, Key, Entry(StringSecret()));
        for (var length = 0; length < envelope.Length; length++)
        {
            Assert.Null(EntryEnvelope.Open(Ring, Ns, Key, envelope.AsSpan(0, length), Fetched).Entry);
        }

        var random = new Random(1234);
        for (var i = 0; i < 2_000; i++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            if (bytes.Length > 9 && i % 2 == 0)
            {
                bytes[0] = EntryEnvelope.Format;
                BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(1), Ring.Current.Id); // Reach the decryption.
            }

            Assert.Null(EntryEnvelope.Open(Ring, Ns, Key, bytes, Fetched).Entry);
        }
    }

    [Fact]
    public void The_plaintext_codec_rejects_every_truncation()
    {
        var encoded = SecretCodec.Encode(StringSecret());

        Assert.NotNull(SecretCodec.Decode(encoded, Fetched));
        for (var length = 0; length < encoded.Length; length++)
        {
            Assert.Null(SecretCodec.Decode(encoded.AsSpan(0, length), Fetched));
        }

        var longer = encoded.Append((byte)0).ToArray();
        Assert.Null(SecretCodec.Decode(longer, Fetched));
    }

    [Fact]
    public void The_freshness_of_an_L1_copy_counts_from_the_AWS_fetch()
    {
        var entry = Entry(StringSecret(), TimeSpan.FromSeconds(60));

        Assert.Equal(TimeSpan.FromSeconds(15), entry.RemainingAt(Fetched.AddSeconds(45)));
        Assert.Equal(TimeSpan.Zero, entry.RemainingAt(Fetched.AddSeconds(61)));
        Assert.Equal(Fetched.AddSeconds(48), entry.RefreshAheadAt(0.8));
    }
}

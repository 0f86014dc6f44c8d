using SecretsCache.Composition;
using SecretsCache.Sources;
using SecretsCache.Tests.Fakes;

namespace SecretsCache.Tests.Composition;

/// <summary>The source of a provider the container attaches hooks to later: before and after, it is exactly the source in front.</summary>
public sealed class AttachableSourceTests
{
    // A member with a default implementation that AttachableSource did not forward would answer the default after the
    // attach, not the decorator's (the second level's shared refresh schedule, say).
    [Fact]
    public void Every_ISecretSource_member_is_forwarded_default_implementations_included()
    {
        var map = typeof(AttachableSource).GetInterfaceMap(typeof(ISecretSource));

        Assert.All(map.TargetMethods, m => Assert.Equal(typeof(AttachableSource), m.DeclaringType));
        Assert.Contains(map.InterfaceMethods, m => m.Name == nameof(ISecretSource.SharedRefreshAheadFraction)); // the check saw a default member
    }

    [Fact]
    public async Task Reads_go_to_the_source_in_front_once_one_is_attached()
    {
        var aws = new FakeSecretSource();
        aws.Set("app/db", "from-aws");
        var attachable = new AttachableSource(aws);
        var reference = SecretReference.Parse("app/db");
        Assert.Equal("from-aws", (await attachable.FetchAsync(reference, null, CancellationToken.None)).GetString());

        var front = new FakeSecretSource();
        front.Set("app/db", "from-front");
        attachable.Attach(front);

        Assert.Same(front, attachable.Current);
        Assert.Equal("from-front", (await attachable.FetchAsync(reference, null, FetchReason.Read, CancellationToken.None)).GetString());
    }
}

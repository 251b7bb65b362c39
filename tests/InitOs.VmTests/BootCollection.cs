using InitOs.TestKit;

namespace InitOs.VmTests;

/// <summary>Every boot test shares one set of images, and boots run one at a time (2 cores).</summary>
[CollectionDefinition(Name)]
public sealed class BootCollection : ICollectionFixture<BootImages>
{
    public const string Name = "qemu boots";
}

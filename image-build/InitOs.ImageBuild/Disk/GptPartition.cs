namespace InitOs.ImageBuild.Disk;

/// <summary>One partition of a disk image: its type (Discoverable Partitions Specification), identity, and content.</summary>
public sealed record GptPartition(Guid Type, Guid Id, string Name, string ContentFile, long SizeBytes)
{
    public static readonly Guid EspType = new("c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
    public static readonly Guid RootX64Type = new("4f68bce3-e8cd-4db1-96e7-fbcaf984b709");
    /// <summary>The DPS "generic Linux data" type: where a data volume goes.</summary>
    public static readonly Guid LinuxDataType = new("0fc63daf-8483-4772-8e79-3d69d8477de4");
}

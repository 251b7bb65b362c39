namespace InitOs.ImageBuild.Oci;

public enum LayerEntryType
{
    File,
    Directory,
    Symlink,
    HardLink,
    CharDevice,
    BlockDevice,
    Fifo,
}

/// <summary>
/// One member of a layer's tar, as the reader resolved it (PAX and GNU long names applied):
/// <see cref="Path"/> relative to the image's root, without "./" or a trailing slash ("" is
/// the root itself); <see cref="Mode"/> the permission bits with set-id and sticky.
/// </summary>
public sealed record LayerEntry(
    string Path,
    LayerEntryType Type,
    uint Mode,
    uint Uid,
    uint Gid,
    long Size,
    long MTimeSeconds,
    int MTimeNanoseconds,
    string LinkName,
    uint DevMajor,
    uint DevMinor,
    IReadOnlyDictionary<string, byte[]> Xattrs)
{
    /// <summary>The last path component ("" for the root).</summary>
    public string Name => Path[(Path.LastIndexOf('/') + 1)..];

    /// <summary>The parent's path ("" for a top-level entry).</summary>
    public string Parent => Path.LastIndexOf('/') is var slash and >= 0 ? Path[..slash] : "";
}

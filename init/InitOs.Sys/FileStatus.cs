namespace InitOs.Sys;

/// <summary>The parts of statx(2) InitOS needs: type, permissions, owner and the device a file lives on.</summary>
public readonly record struct FileStatus(uint Mode, uint DevMajor, uint DevMinor, uint RdevMajor, uint RdevMinor, long Size, uint Uid = 0, uint Gid = 0)
{
    public bool IsDirectory => (Mode & FileTypes.Mask) == FileTypes.Directory;
    public bool IsRegularFile => (Mode & FileTypes.Mask) == FileTypes.Regular;
    public bool IsSymlink => (Mode & FileTypes.Mask) == FileTypes.Symlink;
    public bool IsBlockDevice => (Mode & FileTypes.Mask) == FileTypes.BlockDevice;
    public bool IsCharDevice => (Mode & FileTypes.Mask) == FileTypes.CharDevice;
    public bool IsExecutable => (Mode & 0x49) != 0;

    public bool SameDevice(FileStatus other) => DevMajor == other.DevMajor && DevMinor == other.DevMinor;

    /// <summary>From a filled struct statx (linux/stat.h): uid@20, gid@24, mode@28, size@40, rdev@128/132, dev@136/140.</summary>
    internal static FileStatus FromStatx(ReadOnlySpan<byte> statx) => new(
        Mode: System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(statx[28..]),
        DevMajor: System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(statx[136..]),
        DevMinor: System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(statx[140..]),
        RdevMajor: System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(statx[128..]),
        RdevMinor: System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(statx[132..]),
        Size: System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(statx[40..]),
        Uid: System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(statx[20..]),
        Gid: System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(statx[24..]));
}

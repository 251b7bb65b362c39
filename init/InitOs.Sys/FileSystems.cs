using System.Buffers.Binary;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>What statfs(2) says about the filesystem a path is on: its type (magic) and its space.</summary>
public readonly record struct FileSystemStatus(long Type, ulong TotalBytes, ulong FreeBytes, ulong AvailableBytes);

/// <summary>statfs(2), with errno turned into <see cref="SysException"/>.</summary>
public static class FileSystems
{
    public static unsafe FileSystemStatus Status(string path)
    {
        byte* buffer = stackalloc byte[Libc.StatfsSize];
        if (Libc.Statfs(path, buffer) < 0)
        {
            throw SysException.FromLastError($"statfs({path})");
        }
        var span = new ReadOnlySpan<byte>(buffer, Libc.StatfsSize);
        // struct statfs (64-bit): f_type@0, f_bsize@8, f_blocks@16, f_bfree@24, f_bavail@32, f_frsize@72.
        long blockSize = BinaryPrimitives.ReadInt64LittleEndian(span[72..]);
        if (blockSize == 0)
        {
            blockSize = BinaryPrimitives.ReadInt64LittleEndian(span[8..]); // kernels before 2.6 had no f_frsize
        }
        ulong unit = (ulong)blockSize;
        return new FileSystemStatus(
            Type: BinaryPrimitives.ReadInt64LittleEndian(span),
            TotalBytes: BinaryPrimitives.ReadUInt64LittleEndian(span[16..]) * unit,
            FreeBytes: BinaryPrimitives.ReadUInt64LittleEndian(span[24..]) * unit,
            AvailableBytes: BinaryPrimitives.ReadUInt64LittleEndian(span[32..]) * unit);
    }

    /// <summary>Whether the mount holding <paramref name="path"/> is read-only (statfs f_flags ST_RDONLY).</summary>
    public static unsafe bool IsReadOnlyMount(string path)
    {
        byte* buffer = stackalloc byte[Libc.StatfsSize];
        if (Libc.Statfs(path, buffer) < 0)
        {
            throw SysException.FromLastError($"statfs({path})");
        }
        const long StRdonly = 1;
        return (BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(buffer, Libc.StatfsSize)[80..]) & StRdonly) != 0;
    }

    /// <summary>
    /// The nosuid, nodev, noexec and atime flags of the mount holding <paramref name="path"/>, as
    /// MS_* bits: a bind remount in a user namespace must keep them (the kernel locks them), or it fails EPERM.
    /// </summary>
    public static unsafe ulong LockedMountFlags(string path)
    {
        byte* buffer = stackalloc byte[Libc.StatfsSize];
        if (Libc.Statfs(path, buffer) < 0)
        {
            throw SysException.FromLastError($"statfs({path})");
        }
        long st = BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(buffer, Libc.StatfsSize)[80..]);
        // ST_NOSUID 2, ST_NODEV 4, ST_NOEXEC 8 are MS_NOSUID, MS_NODEV, MS_NOEXEC; ST_NOATIME 1024 and
        // ST_NODIRATIME 2048 are MS_NOATIME and MS_NODIRATIME; ST_RELATIME 4096 is MS_RELATIME (1 << 21).
        ulong flags = (ulong)(st & (2 | 4 | 8 | 1024 | 2048));
        return (st & 4096) != 0 ? flags | (1UL << 21) : flags;
    }
}

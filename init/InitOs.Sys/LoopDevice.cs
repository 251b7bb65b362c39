using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// A file attached read-only to a free loop device (LOOP_CTL_GET_FREE, then LOOP_CONFIGURE in
/// one step, as losetup does since Linux 5.8), with autoclear: the device lets go of the file
/// when the last user, the mount or this handle, is gone. Keep the handle until the mount holds
/// the device.
/// </summary>
public sealed unsafe class LoopDevice : IDisposable
{
    private const ulong LoopCtlGetFree = 0x4C82;
    private const ulong LoopConfigure = 0x4C0A;
    private const uint FlagsReadOnly = 1;
    private const uint FlagsAutoclear = 4;
    /// <summary>sizeof(struct loop_config): fd, block_size, struct loop_info64 (232), 8 reserved u64.</summary>
    private const int ConfigSize = 304;
    /// <summary>offsetof(struct loop_config, info.lo_flags): 8 + five u64 + three u32.</summary>
    private const int FlagsOffset = 60;

    private int _fd;

    private LoopDevice(int fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    /// <summary>/dev/loopN.</summary>
    public string Path { get; }

    public static LoopDevice AttachReadOnly(string file)
    {
        int backing = Files.Open(file, OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
        try
        {
            var path = $"/dev/loop{FreeNumber()}";
            int fd = Files.Open(path, OpenFlags.ReadWrite | OpenFlags.CloseOnExec);
            var config = stackalloc byte[ConfigSize];
            new Span<byte>(config, ConfigSize).Clear();
            *(uint*)config = (uint)backing;
            *(uint*)(config + FlagsOffset) = FlagsReadOnly | FlagsAutoclear;
            if (Libc.Ioctl(fd, LoopConfigure, (nint)config) < 0)
            {
                var error = SysException.FromLastError($"LOOP_CONFIGURE {path} with {file}");
                Files.Close(fd);
                throw error;
            }
            return new LoopDevice(fd, path);
        }
        finally
        {
            Files.Close(backing);
        }
    }

    private static int FreeNumber()
    {
        int control = Files.Open("/dev/loop-control", OpenFlags.ReadWrite | OpenFlags.CloseOnExec);
        try
        {
            int number = Libc.Ioctl(control, LoopCtlGetFree, 0);
            return number >= 0 ? number : throw SysException.FromLastError("LOOP_CTL_GET_FREE on /dev/loop-control");
        }
        finally
        {
            Files.Close(control);
        }
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            Files.Close(_fd);
            _fd = -1;
        }
    }
}

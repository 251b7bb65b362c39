using System.Runtime.InteropServices;
using System.Text;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// TAP devices (linux/if_tun.h) for VM jails. InitOS makes the device persistent and puts it
/// on the bridge itself, so QEMU only opens it by name and needs neither helper scripts nor
/// CAP_NET_ADMIN of its own; the device is deleted over rtnetlink when the VM has ended.
/// </summary>
public static unsafe class Tap
{
    private const string CloneDevice = "/dev/net/tun";
    private const short IffTap = 0x0002;
    private const short IffNoPi = 0x1000;
    private const int InterfaceNameSize = 16;

    // _IOW('T', 202, int) and _IOW('T', 203, int).
    private static readonly uint SetInterface = Ioc.Write('T', 202, sizeof(int));
    private static readonly uint SetPersist = Ioc.Write('T', 203, sizeof(int));

    /// <summary>struct ifreq as TUNSETIFF reads it: the name, then the flags (the union's first short).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    private struct InterfaceRequest
    {
        public fixed byte Name[InterfaceNameSize];
        public short Flags;
    }

    /// <summary>Creates the TAP device <paramref name="name"/> (no packet-info header) that outlives this call.</summary>
    public static void CreatePersistent(string name)
    {
        if (name.Length is 0 or >= InterfaceNameSize || name.Contains('/'))
        {
            throw new ArgumentException($"'{name}' is not an interface name (1-15 characters, no '/')", nameof(name));
        }
        int fd = OpenCloneDevice();
        try
        {
            var request = new InterfaceRequest { Flags = IffTap | IffNoPi };
            Encoding.ASCII.GetBytes(name, new Span<byte>(request.Name, InterfaceNameSize - 1));
            if (Libc.Ioctl(fd, SetInterface, (nint)(&request)) < 0)
            {
                throw SysException.FromLastError($"TUNSETIFF {name} (TAP)");
            }
            if (Libc.Ioctl(fd, SetPersist, 1) < 0)
            {
                throw SysException.FromLastError($"TUNSETPERSIST {name}");
            }
        }
        finally
        {
            Files.Close(fd);
        }
    }

    private static int OpenCloneDevice()
    {
        try
        {
            return Files.Open(CloneDevice, OpenFlags.ReadWrite | OpenFlags.CloseOnExec);
        }
        catch (SysException e) when (e.Errno == Errno.ENOENT)
        {
            throw new SysException($"open {CloneDevice} (load the tun module)", e.Errno);
        }
    }
}

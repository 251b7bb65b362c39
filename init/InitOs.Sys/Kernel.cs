using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>reboot(2) commands (linux/reboot.h).</summary>
public enum RebootCommand : uint
{
    Restart = 0x01234567,
    Halt = 0xCDEF0123,
    PowerOff = 0x4321FEDC,
    CtrlAltDelOn = 0x89ABCDEF,
    CtrlAltDelOff = 0,
}

/// <summary>Calls into the kernel proper: module loading and reboot.</summary>
public static class Kernel
{
    private const long SysFinitModule = 313;
    private const long SysGetRandom = 318;

    /// <summary>
    /// getrandom(2) with no flags: the kernel's CSPRNG, waiting (once, early in a boot) until it
    /// is seeded. For keys and nonces; .NET's generator is not used in the initramfs so that no
    /// OpenSSL question arises.
    /// </summary>
    public static unsafe void RandomBytes(Span<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            int done = 0;
            while (done < buffer.Length)
            {
                long n = Libc.Syscall3(SysGetRandom, (long)(start + done), buffer.Length - done, 0);
                if (n < 0)
                {
                    var errno = (Errno)System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }
                    throw new SysException("getrandom", errno);
                }
                done += (int)n;
            }
        }
    }

    public static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        RandomBytes(bytes);
        return bytes;
    }

    /// <summary>finit_module(2); returns the errno so callers can treat EEXIST as success.</summary>
    public static Errno LoadModule(string path, string parameters = "")
    {
        int fd = Files.Open(path, OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
        try
        {
            nint parms = System.Runtime.InteropServices.Marshal.StringToCoTaskMemUTF8(parameters);
            try
            {
                long rc = Libc.Syscall3(SysFinitModule, fd, parms, 0);
                return rc == 0 ? Errno.None : (Errno)System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            }
            finally
            {
                System.Runtime.InteropServices.Marshal.FreeCoTaskMem(parms);
            }
        }
        finally
        {
            Files.Close(fd);
        }
    }

    public static void Reboot(RebootCommand command)
    {
        if (Libc.Reboot((uint)command) < 0)
        {
            throw SysException.FromLastError($"reboot({command})");
        }
    }
}

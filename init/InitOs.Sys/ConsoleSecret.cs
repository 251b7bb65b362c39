using System.Runtime.InteropServices;
using System.Text;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// Asks for a secret on a terminal as sulogin does: what was typed ahead is dropped, the answer
/// is not echoed, and the terminal's settings are put back afterwards.
/// </summary>
public static class ConsoleSecret
{
    private const ulong TcGets = 0x5401, TcSets = 0x5402;
    private const uint Echo = 0x8, EchoNl = 0x40, Canonical = 0x2;
    private const int MaxLength = 1024;

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct KernelTermios
    {
        public uint InputFlags, OutputFlags, ControlFlags, LocalFlags;
        public byte Line;
        public fixed byte ControlChars[19];
    }

    /// <summary>The line typed after <paramref name="prompt"/>, or null at end of input (Control-D).</summary>
    public static unsafe string? Ask(string terminal, string prompt)
    {
        int fd = Files.Open(terminal, OpenFlags.ReadWrite | OpenFlags.NoCtty | OpenFlags.CloseOnExec);
        var saved = default(KernelTermios);
        bool restore = Libc.Ioctl(fd, TcGets, (nint)(&saved)) == 0;
        try
        {
            if (restore)
            {
                var quiet = saved;
                quiet.LocalFlags = (quiet.LocalFlags & ~(Echo | EchoNl)) | Canonical;
                Terminal.DropTypedAhead(fd);
                _ = Libc.Ioctl(fd, TcSets, (nint)(&quiet));
            }
            Files.WriteAll(fd, Encoding.UTF8.GetBytes(prompt));
            var line = ReadLine(fd);
            Files.WriteAll(fd, "\n"u8);
            return line;
        }
        finally
        {
            if (restore)
            {
                _ = Libc.Ioctl(fd, TcSets, (nint)(&saved));
            }
            Files.Close(fd);
        }
    }

    private static string? ReadLine(int fd)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (bytes.Count < MaxLength)
        {
            int n = Files.Read(fd, one);
            if (n <= 0)
            {
                return bytes.Count == 0 ? null : Encoding.UTF8.GetString([.. bytes]);
            }
            if (one[0] is (byte)'\n' or (byte)'\r')
            {
                return Encoding.UTF8.GetString([.. bytes]);
            }
            bytes.Add(one[0]);
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }
}

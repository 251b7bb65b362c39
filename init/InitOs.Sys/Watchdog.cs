using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// The kernel's watchdog device (/dev/watchdog: i6300esb in QEMU, iTCO or sp5100 on real
/// machines): opening it starts the timer; a timeout set through WDIOC_SETTIMEOUT resets the
/// machine unless it is fed or disarmed first. Closing without writing the magic 'V' leaves it
/// running ("unexpected close"), which is how PID 1 hands a running timer to the judge.
/// </summary>
public sealed class Watchdog : IDisposable
{
    public const string Device = "/dev/watchdog";
    private const ulong SetTimeout = 0xC0045706; // _IOWR('W', 6, int)
    private const ulong KeepAlive = 0x80045705;  // _IOR('W', 5, int)
    private int _fd;

    private Watchdog(int fd) => _fd = fd;

    /// <summary>Opens (starts) the watchdog and sets its timeout; returns the timeout the driver took (it may round).</summary>
    public static unsafe (Watchdog Watchdog, int Seconds) Arm(int seconds, string device = Device)
    {
        int fd = Files.Open(device, OpenFlags.WriteOnly | OpenFlags.CloseOnExec);
        int value = seconds;
        if (Libc.Ioctl(fd, SetTimeout, (nint)(&value)) < 0)
        {
            var error = SysException.FromLastError($"WDIOC_SETTIMEOUT({seconds}) on {device}");
            Files.Close(fd);
            throw error;
        }
        return (new Watchdog(fd), value);
    }

    public unsafe void Feed()
    {
        int unused = 0;
        if (Libc.Ioctl(_fd, KeepAlive, (nint)(&unused)) < 0)
        {
            throw SysException.FromLastError("WDIOC_KEEPALIVE");
        }
    }

    /// <summary>The magic close: the timer stops.</summary>
    public void Disarm()
    {
        Files.WriteAll(_fd, "V"u8);
        Close();
    }

    /// <summary>Closes without the magic 'V': the timer keeps running, for whoever opens the device next.</summary>
    public void LeaveRunning() => Close();

    public void Dispose() => Close();

    private void Close()
    {
        if (_fd >= 0)
        {
            Files.Close(_fd);
            _fd = -1;
        }
    }
}

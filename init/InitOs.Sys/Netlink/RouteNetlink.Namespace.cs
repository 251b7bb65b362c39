using System.Runtime.ExceptionServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys.Netlink;

// Opening a socket inside another network namespace without moving the process.
//
// A netlink socket belongs to the network namespace that was current when socket() ran and
// stays there for its whole life: requests sent on it later act on that namespace whatever
// thread sends them. So to configure a jail's links (address, route, lo up) we only need
// to *create* the socket inside the jail's namespace.
//
// setns() changes the namespace of the calling thread only. Doing it on a thread of the
// .NET thread pool (or the caller's thread) would leave that thread in the jail's namespace
// if switching back failed, and every later socket opened on it would silently land there.
// A dedicated thread that ends right after is the safe place: setns(target), socket(),
// setns(back to the original), exit. Even if the way back fails, the thread dies with it.
public sealed partial class RouteNetlink
{
    private const string CurrentThreadNetworkNamespace = "/proc/thread-self/ns/net";

    /// <summary>A socket inside the network namespace of a file such as /proc/PID/ns/net or /run/netns/NAME.</summary>
    public static RouteNetlink OpenInNamespace(string networkNamespacePath)
    {
        int fd = Files.Open(networkNamespacePath, OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
        try
        {
            return OpenInNamespace(fd);
        }
        finally
        {
            Files.Close(fd);
        }
    }

    /// <summary>A socket inside the network namespace behind an open namespace fd (the caller keeps the fd).</summary>
    public static RouteNetlink OpenInNamespace(int networkNamespaceFd)
    {
        RouteNetlink? socket = null;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                socket = OpenOnThisThreadIn(networkNamespaceFd);
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }, maxStackSize: 256 * 1024)
        {
            Name = "netns socket",
            IsBackground = true,
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return socket!;
    }

    private static RouteNetlink OpenOnThisThreadIn(int targetFd)
    {
        int originalFd = Files.Open(CurrentThreadNetworkNamespace, OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
        try
        {
            if (Libc.Setns(targetFd, Libc.CloneNewNet) < 0)
            {
                throw SysException.FromLastError("setns(CLONE_NEWNET) into the target network namespace");
            }
            RouteNetlink? socket = null;
            SysException? openFailure = null;
            try
            {
                socket = Open();
            }
            catch (SysException e)
            {
                openFailure = e;
            }
            if (Libc.Setns(originalFd, Libc.CloneNewNet) < 0)
            {
                // This thread is about to end, so nothing else runs in the wrong namespace;
                // still report it, since it means the environment is not what we think.
                var stuck = SysException.FromLastError("setns(CLONE_NEWNET) back to the original network namespace");
                socket?.Dispose();
                throw stuck;
            }
            return socket ?? throw openFailure!;
        }
        finally
        {
            Files.Close(originalFd);
        }
    }
}

namespace InitOs.Sys.Netlink;

/// <summary>
/// Where a link goes: the network namespace behind an open fd (IFLA_NET_NS_FD, e.g. a
/// /proc/PID/ns/net or /run/netns/NAME file) or that of a process (IFLA_NET_NS_PID).
/// </summary>
public readonly record struct NetworkNamespaceTarget
{
    private NetworkNamespaceTarget(int fd, int pid)
    {
        Fd = fd;
        Pid = pid;
    }

    public int Fd { get; }

    public int Pid { get; }

    public static NetworkNamespaceTarget ByFd(int fd) =>
        fd >= 0 ? new(fd, -1) : throw new ArgumentOutOfRangeException(nameof(fd));

    public static NetworkNamespaceTarget ByPid(int pid) =>
        pid > 0 ? new(-1, pid) : throw new ArgumentOutOfRangeException(nameof(pid));

    internal void AppendTo(NetlinkMessageBuilder message)
    {
        if (Fd >= 0)
        {
            message.Attribute(Rtnl.Link.NetNsFd, (uint)Fd);
        }
        else
        {
            message.Attribute(Rtnl.Link.NetNsPid, (uint)Pid);
        }
    }

    public override string ToString() => Fd >= 0 ? $"netns fd {Fd}" : $"netns of pid {Pid}";
}

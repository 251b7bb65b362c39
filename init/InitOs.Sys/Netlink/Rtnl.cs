namespace InitOs.Sys.Netlink;

/// <summary>
/// rtnetlink numbers from linux/netlink.h, linux/rtnetlink.h, linux/if_link.h,
/// linux/if_addr.h and linux/veth.h. Same on every architecture.
/// </summary>
public static class Rtnl
{
    public static class MessageType
    {
        public const ushort Error = 2;
        public const ushort Done = 3;
        public const ushort NewLink = 16;
        public const ushort DeleteLink = 17;
        public const ushort GetLink = 18;
        public const ushort NewAddress = 20;
        public const ushort NewRoute = 24;
    }

    /// <summary>nlmsg_flags.</summary>
    public static class Flags
    {
        public const ushort Request = 0x1;
        public const ushort Multi = 0x2;
        public const ushort Ack = 0x4;
        public const ushort Excl = 0x200;
        public const ushort Create = 0x400;

        /// <summary>In an ack: only the request's header was echoed (NETLINK_CAP_ACK).</summary>
        public const ushort Capped = 0x100;

        /// <summary>In an ack: extended-ack attributes follow (NETLINK_EXT_ACK).</summary>
        public const ushort AckTlvs = 0x200;
    }

    /// <summary>IFLA_* attributes of an ifinfomsg.</summary>
    public static class Link
    {
        public const ushort IfName = 3;
        public const ushort Master = 10;
        public const ushort LinkInfo = 18;
        public const ushort NetNsPid = 19;
        public const ushort NetNsFd = 28;
    }

    /// <summary>IFLA_INFO_* attributes nested in IFLA_LINKINFO.</summary>
    public static class LinkInfo
    {
        public const ushort Kind = 1;
        public const ushort Data = 2;
    }

    /// <summary>VETH_INFO_* attributes nested in IFLA_INFO_DATA of a veth.</summary>
    public static class Veth
    {
        public const ushort Peer = 1;
    }

    /// <summary>IFA_* attributes of an ifaddrmsg.</summary>
    public static class InterfaceAddress
    {
        public const ushort Address = 1;
        public const ushort Local = 2;
    }

    /// <summary>RTA_* attributes of an rtmsg.</summary>
    public static class Route
    {
        public const ushort Oif = 4;
        public const ushort Gateway = 5;
    }

    /// <summary>NLMSGERR_ATTR_* attributes after an extended ack.</summary>
    public static class ErrorAttribute
    {
        public const ushort Message = 1;
    }

    public const byte FamilyUnspecified = 0;
    public const byte FamilyInet = 2;

    public const uint InterfaceUp = 0x1;

    public const byte RouteTableMain = 254;
    public const byte RouteProtocolStatic = 4;
    public const byte ScopeUniverse = 0;
    public const byte RouteTypeUnicast = 1;

    /// <summary>IFNAMSIZ minus the terminating NUL.</summary>
    public const int MaxInterfaceNameLength = 15;

    public const int HeaderSize = 16;
    public const int AttributeHeaderSize = 4;

    internal const int OptionCapAck = 10;
    internal const int OptionExtAck = 11;

    /// <summary>NLMSG_ALIGN / RTA_ALIGN: everything in a netlink message starts on 4 bytes.</summary>
    public static int Align(int length) => (length + 3) & ~3;
}

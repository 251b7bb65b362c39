using System.Net;
using System.Runtime.InteropServices;
using InitOs.Sys.Interop;

namespace InitOs.Sys;

/// <summary>
/// A host name's IPv4 addresses by glibc's getaddrinfo (the jail's own /etc/hosts and
/// resolv.conf), without System.Net's resolver in the box.
/// </summary>
public static class HostNames
{
    /// <exception cref="SysException">The name does not resolve; the message is gai_strerror's.</exception>
    public static unsafe IReadOnlyList<IPAddress> ResolveIPv4(string host)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return [literal];
        }
        var hints = new Libc.AddrInfo { Family = Libc.AfInet, SocketType = Libc.SockStream };
        Libc.AddrInfo* list = null;
        int rc = Libc.GetAddrInfo(host, null, &hints, &list);
        if (rc != 0)
        {
            throw new ResolveException(host, Marshal.PtrToStringUTF8(Libc.GaiStrerror(rc)) ?? $"error {rc}");
        }
        try
        {
            var addresses = new List<IPAddress>();
            for (var entry = list; entry != null; entry = entry->Next)
            {
                if (entry->Family == Libc.AfInet && entry->AddressLength >= 8)
                {
                    // sockaddr_in: family (2), port (2), then the address.
                    addresses.Add(new IPAddress(new ReadOnlySpan<byte>(entry->Address + 4, 4)));
                }
            }
            return addresses.Distinct().ToList();
        }
        finally
        {
            Libc.FreeAddrInfo(list);
        }
    }
}

/// <summary>A host name that did not resolve.</summary>
public sealed class ResolveException(string host, string reason) : Exception($"{host}: {reason}");

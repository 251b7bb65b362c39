using System.Net;
using System.Text;
using InitOs.Sys;

namespace InitOs.Jails.Network;

/// <summary>
/// Hands out the addresses of a subnet to jails, one file per taken address in a state
/// directory (e.g. /run/initos/net/initos0/10.88.0.2 holding the jail id). A file is taken
/// with open(O_CREAT|O_EXCL), which the kernel makes atomic, so two processes allocating at
/// the same moment never get the same address. The network and broadcast addresses and
/// the gateway are never handed out.
/// </summary>
public sealed class JailAddressAllocator
{

    private readonly string _directory;
    private readonly IPNetwork _subnet;

    public JailAddressAllocator(string directory, IPNetwork subnet)
    {
        _directory = directory;
        _subnet = subnet;
    }

    /// <summary>The jail's address: the one it already holds, else the lowest free one.</summary>
    public IPAddress Allocate(string jailId)
    {
        ValidateJailId(jailId);
        Directory.CreateDirectory(_directory);
        var taken = ReadAllocations();
        foreach (var (address, owner) in taken)
        {
            if (owner == jailId)
            {
                return address;
            }
        }
        var takenNumbers = taken.Select(a => Ipv4.ToNumber(a.Address)).ToHashSet();
        uint first = Ipv4.ToNumber(_subnet.BaseAddress) + 2; // +1 is the gateway
        uint last = Ipv4.Broadcast(_subnet) - 1;
        for (uint candidate = first; candidate <= last; candidate++)
        {
            if (!takenNumbers.Contains(candidate) && TryTake(Ipv4.FromNumber(candidate), jailId))
            {
                return Ipv4.FromNumber(candidate);
            }
        }
        throw new InvalidOperationException($"jail {jailId}: no free address left in {_subnet} (allocations in {_directory})");
    }

    /// <summary>The address a jail holds, or null.</summary>
    public IPAddress? Find(string jailId)
    {
        foreach (var (address, owner) in ReadAllocations())
        {
            if (owner == jailId)
            {
                return address;
            }
        }
        return null;
    }

    /// <summary>Frees every address the jail holds; nothing happens when it holds none.</summary>
    public void Release(string jailId)
    {
        foreach (var (address, owner) in ReadAllocations())
        {
            if (owner == jailId)
            {
                File.Delete(PathOf(address));
            }
        }
    }

    /// <summary>Every allocation; a file still being written by another process has owner "".</summary>
    public IReadOnlyList<(IPAddress Address, string Owner)> ReadAllocations()
    {
        var allocations = new List<(IPAddress, string)>();
        if (!Directory.Exists(_directory))
        {
            return allocations;
        }
        foreach (var path in Directory.EnumerateFiles(_directory))
        {
            if (IPAddress.TryParse(Path.GetFileName(path), out var address) && _subnet.Contains(address))
            {
                allocations.Add((address, ReadOwner(path)));
            }
        }
        return allocations;
    }

    private bool TryTake(IPAddress address, string jailId)
    {
        int fd;
        try
        {
            fd = Files.Open(PathOf(address), OpenFlags.WriteOnly | OpenFlags.CloseOnExec | OpenFlags.Create | OpenFlags.Exclusive, Permissions.Octal0644);
        }
        catch (SysException e) when (e.Errno == Errno.EEXIST)
        {
            return false; // another process took it since we listed the directory
        }
        bool written;
        try
        {
            written = Files.WriteAll(fd, Encoding.UTF8.GetBytes(jailId + "\n"));
        }
        finally
        {
            Files.Close(fd);
        }
        if (!written)
        {
            File.Delete(PathOf(address));
            throw new IOException($"could not record {address} for jail {jailId} in {_directory}");
        }
        return true;
    }

    private static string ReadOwner(string path)
    {
        try
        {
            return File.ReadAllText(path).TrimEnd('\n');
        }
        catch (FileNotFoundException)
        {
            return ""; // released while we listed
        }
    }

    private string PathOf(IPAddress address) => Path.Combine(_directory, address.ToString());

    private static void ValidateJailId(string jailId)
    {
        if (string.IsNullOrEmpty(jailId) || jailId.Contains('\n'))
        {
            throw new ArgumentException("a jail id must be non-empty and on one line", nameof(jailId));
        }
    }
}

using InitOs.Jails.Oci;
using InitOs.Sys;

namespace InitOs.Jails.Planning;

/// <summary>linux.devices plus the OCI default set → the jail's minimal /dev.</summary>
public static class DevicePlanner
{
    /// <summary>Every OCI jail gets these (runtime-spec "Default Devices").</summary>
    public static readonly IReadOnlyList<DeviceNode> Defaults =
    [
        new("/dev/null", 'c', 1, 3, Permissions.Octal0666, 0, 0),
        new("/dev/zero", 'c', 1, 5, Permissions.Octal0666, 0, 0),
        new("/dev/full", 'c', 1, 7, Permissions.Octal0666, 0, 0),
        new("/dev/random", 'c', 1, 8, Permissions.Octal0666, 0, 0),
        new("/dev/urandom", 'c', 1, 9, Permissions.Octal0666, 0, 0),
        new("/dev/tty", 'c', 5, 0, Permissions.Octal0666, 0, 0),
    ];

    public static List<DeviceNode> Plan(IReadOnlyList<OciDevice> devices, Action<string, string> problem)
    {
        var result = Defaults.ToList();
        foreach (var (device, i) in devices.Select((d, i) => (d, i)))
        {
            var field = $"linux.devices[{i}]";
            // Anywhere in the root, as runc allows; made without following a symlink (RootPath).
            if (device.Path is not { } path || !path.StartsWith('/') || path.Split('/').Contains("..") || path.TrimEnd('/') == "")
            {
                problem(field + ".path", $"\"{device.Path}\" must be an absolute path without ..");
                continue;
            }
            if (device.Type is not ("c" or "b" or "u" or "p"))
            {
                problem(field + ".type", $"\"{device.Type}\" is not one of c, b, u, p");
                continue;
            }
            var kind = device.Type == "u" ? 'c' : device.Type[0];
            result.RemoveAll(d => d.Path == path);
            result.Add(new DeviceNode(path, kind, device.Major, device.Minor, device.FileMode ?? Permissions.Octal0666, device.Uid ?? 0, device.Gid ?? 0));
        }
        return result;
    }
}

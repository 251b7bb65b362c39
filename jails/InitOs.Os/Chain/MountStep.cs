using InitOs.Init.Devices;
using InitOs.Jails.Planning;
using InitOs.Sys;

namespace InitOs.Os.Chain;

/// <summary>
/// `chain mount [-t TYPE] [-o OPTIONS] SOURCE TARGET`: mount(8)'s order and options. SOURCE is
/// "tmpfs" (or anything with -t tmpfs), a /dev path, or LABEL=, UUID=, PARTUUID=, PARTLABEL=,
/// found among the block devices this jail sees with InitOS's own probes (no blkid, no udev);
/// a disk's type is probed when -t is not given. TARGET is made if it is missing.
/// </summary>
public static class MountStep
{
    public sealed record Request(string Source, string Target, string? Type, IReadOnlyList<string> Options);

    public static ChainState Run(IReadOnlyList<string> args, ChainState state)
    {
        var request = Parse(args);
        var (source, type) = Resolve(request, () => new BlockDeviceScanner().Scan());
        var (flags, propagation, _, data) = MountOptions.Parse(request.Options);
        try
        {
            Directory.CreateDirectory(request.Target);
            Mounts.Mount(source, request.Target, type, flags, data);
            if (propagation != MountFlags.None)
            {
                Mounts.Mount(null, request.Target, null, propagation, null);
            }
        }
        catch (Exception e) when (e is SysException or IOException or UnauthorizedAccessException)
        {
            throw new ChainException($"{source} on {request.Target} ({type ?? "bind"}): {ChainFiles.Describe(e)}");
        }
        return state;
    }

    public static Request Parse(IReadOnlyList<string> args)
    {
        string? type = null;
        var options = new List<string>();
        var positional = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] is "-t" or "-o")
            {
                if (i + 1 >= args.Count || args[i + 1].Length == 0)
                {
                    throw new ChainException($"{args[i]} needs a value");
                }
                if (args[i] == "-t")
                {
                    type = args[++i];
                }
                else
                {
                    options.AddRange(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries));
                }
            }
            else if (args[i].StartsWith('-'))
            {
                throw new ChainException($"unknown option {args[i]} (-t TYPE and -o OPTIONS are known)");
            }
            else
            {
                positional.Add(args[i]);
            }
        }
        if (positional.Count != 2)
        {
            throw new ChainException("expects SOURCE and TARGET");
        }
        if (!positional[1].StartsWith('/'))
        {
            throw new ChainException($"TARGET \"{positional[1]}\" is not an absolute path");
        }
        return new Request(positional[0], positional[1], type, options);
    }

    /// <summary>The source mount(2) gets and the type: tmpfs as it is, a named disk found and its type probed.</summary>
    public static (string Source, string? Type) Resolve(Request request, Func<IReadOnlyList<BlockDevice>> scan)
    {
        bool bind = request.Options.Contains("bind") || request.Options.Contains("rbind");
        if (request.Type == "tmpfs" || (request.Type is null && request.Source == "tmpfs"))
        {
            return ("tmpfs", "tmpfs");
        }
        if (bind || (request.Type is not null && !IsDeviceName(request.Source)))
        {
            return (request.Source, request.Type);
        }
        if (!IsDeviceName(request.Source))
        {
            throw new ChainException($"\"{request.Source}\" is not tmpfs, a /dev path or LABEL=/UUID=/PARTUUID=/PARTLABEL= (give -t TYPE for another source)");
        }
        var devices = scan();
        BlockDevice? device;
        try
        {
            device = RootSpec.Parse(request.Source).Find(devices);
        }
        catch (InvalidOperationException e)
        {
            throw new ChainException(e.Message.Replace("root=", "", StringComparison.Ordinal));
        }
        if (device is null)
        {
            var seen = devices.Count == 0 ? "none (is /sys mounted, and are the disks' nodes in /dev?)" : string.Join(", ", devices.Select(d => d.Describe()));
            throw new ChainException($"no device is {request.Source}; devices seen: {seen}");
        }
        var type = request.Type ?? device.Filesystem?.Type
            ?? throw new ChainException($"{device.DevicePath} ({request.Source}) holds no filesystem InitOS knows; give -t TYPE");
        return (device.DevicePath, type);
    }

    private static bool IsDeviceName(string source) =>
        source.StartsWith("/dev/", StringComparison.Ordinal) || source.Contains('=', StringComparison.Ordinal);
}

using InitOs.Jails.Network;
using InitOs.Jails.Planning;
using InitOs.Jails.Running;

namespace InitOs.Box;

internal sealed class JailUsageException(string message) : Exception(message);

/// <summary>ID and the runc-style flags of create/run/delete.</summary>
internal sealed record JailArguments(string Id, string Bundle, string? PidFile, bool Force, string? Pool, NetworkPlan? Network)
{
    /// <summary>run --detach (-d): start the jail and return, as create + start do.</summary>
    public bool Detach { get; init; }
    /// <summary>--console-socket: where the master of a terminal: true jail's pty is sent.</summary>
    public string? ConsoleSocket { get; init; }
    /// <summary>--preserve-fds N: fds 3…3+N-1 of this command reach the program.</summary>
    public int PreserveFds { get; init; }
    /// <summary>--config FILE (crun's): the spec from that file instead of the bundle's config.json.</summary>
    public string? Config { get; init; }

    public static JailArguments Parse(string[] args, bool withBundle)
    {
        string? id = null, pidFile = null, pool = null, network = null, bridge = null, subnet = null;
        string bundle = Directory.GetCurrentDirectory();
        string? consoleSocket = null, config = null;
        bool force = false, detach = false;
        int preserve = 0;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--bundle" or "-b" when withBundle && i + 1 < args.Length:
                    bundle = args[++i];
                    break;
                case "--pid-file" when withBundle && i + 1 < args.Length:
                    pidFile = Path.GetFullPath(args[++i]);
                    break;
                case "--pool" when withBundle && i + 1 < args.Length:
                    pool = args[++i];
                    break;
                case "--network" when withBundle && i + 1 < args.Length:
                    network = args[++i];
                    break;
                case "--bridge" when withBundle && i + 1 < args.Length:
                    bridge = args[++i];
                    break;
                case "--subnet" when withBundle && i + 1 < args.Length:
                    subnet = args[++i];
                    break;
                case "--detach" or "-d" when withBundle:
                    detach = true;
                    break;
                case "--console-socket" when withBundle && i + 1 < args.Length:
                    consoleSocket = Path.GetFullPath(args[++i]);
                    break;
                case "--preserve-fds" when withBundle && i + 1 < args.Length:
                    preserve = ParsePreserveFds(args[++i]);
                    break;
                case "--config" when withBundle && i + 1 < args.Length:
                    config = args[++i];
                    break;
                case "--no-new-keyring" when withBundle:
                    // runc's default is a new session keyring; InitOS never makes one, which is what this asks.
                    break;
                case "--force" or "-f" when !withBundle:
                    force = true;
                    break;
                default:
                    if (args[i].StartsWith('-') || id is not null)
                    {
                        throw new JailUsageException($"unexpected argument '{args[i]}'");
                    }
                    id = args[i];
                    break;
            }
        }
        if (id is null)
        {
            throw new JailUsageException("missing jail ID");
        }
        try
        {
            JailIds.Check(id);
        }
        catch (JailException e)
        {
            throw new JailUsageException(e.Message);
        }
        return new JailArguments(id, bundle, pidFile, force, pool, ParseNetwork(network, bridge, subnet))
        {
            Detach = detach,
            ConsoleSocket = consoleSocket,
            PreserveFds = preserve,
            Config = config,
        };
    }

    public static int ParsePreserveFds(string value) =>
        int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= JailLauncher.MostPreservedFds
            ? n
            : throw new JailUsageException($"--preserve-fds '{value}': expected a count from 0 to {JailLauncher.MostPreservedFds}");

    private static NetworkPlan? ParseNetwork(string? mode, string? bridge, string? subnet)
    {
        if (mode is null)
        {
            return bridge is null && subnet is null ? null : throw new JailUsageException("--bridge and --subnet go with --network bridge");
        }
        var parsed = mode switch
        {
            "bridge" => NetworkMode.Bridge,
            "none" => NetworkMode.None,
            "host" => NetworkMode.Host,
            _ => throw new JailUsageException($"--network '{mode}': expected bridge, none or host"),
        };
        if (subnet is not null && !System.Net.IPNetwork.TryParse(subnet, out _))
        {
            throw new JailUsageException($"--subnet '{subnet}' is not a CIDR such as 10.88.0.0/16");
        }
        return new NetworkPlan(parsed, bridge ?? JailNetworkConfig.DefaultBridgeName, subnet ?? "10.88.0.0/16");
    }
}

using System.Net;
using InitOs.Jails.Network;
using InitOs.TestKit;

namespace InitOs.JailTests.Network;

/// <summary>
/// The host side of a network test: a bridge name, subnet and network namespaces unique to
/// this run (so nothing collides with the host's own links or a parallel run), and cleanup of
/// all of them on dispose, whether the test passed or not. iproute2 is used here, by the test,
/// to create namespaces and inspect the result; the code under test never runs it.
/// </summary>
public sealed class NetworkTestHost : IDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<string> _hostLinks = [];
    private readonly TempDirectory _state = new("initos-net-test-");

    public NetworkTestHost()
    {
        Suffix = RandomSuffix();
        BridgeName = "ibrtest" + Suffix;
        Subnet = IPNetwork.Parse($"10.213.{Random.Shared.Next(0, 256)}.0/24");
        _hostLinks.Add(BridgeName);
    }

    public string Suffix { get; }

    public string BridgeName { get; }

    public IPNetwork Subnet { get; }

    public string StateDirectory => _state.Path;

    public JailNetworkConfig Config(NetworkMode mode = NetworkMode.Bridge) =>
        new() { Mode = mode, BridgeName = BridgeName, Subnet = Subnet };

    public JailNetwork Network(NetworkMode mode = NetworkMode.Bridge) => new(Config(mode), StateDirectory);

    /// <summary>A new network namespace (ip netns add); returns its name. Its file is <see cref="NamespacePath"/>.</summary>
    public string AddNamespace(string label)
    {
        string name = $"itest-{Suffix}-{label}";
        Tool.Run("ip", "netns", "add", name);
        _namespaces.Add(name);
        return name;
    }

    public static string NamespacePath(string name) => $"/run/netns/{name}";

    /// <summary>A host link to delete at the end if the test leaves it behind.</summary>
    public string TrackLink(string name)
    {
        _hostLinks.Add(name);
        return name;
    }

    /// <summary>A jail id unique to this run; its host veth is removed at the end if still there.</summary>
    public string JailId(string label)
    {
        string id = $"{Suffix}-{label}";
        TrackLink(JailNetwork.HostLinkName(id));
        return id;
    }

    /// <summary>A unique link name for this run: prefix (at most 7 chars) + suffix + label.</summary>
    public string LinkName(string label) => TrackLink($"it{Suffix}{label}");

    public static string Ip(params string[] args) => Tool.Run("ip", args);

    public static string InNamespace(string name, params string[] command) =>
        Tool.Run("ip", ["netns", "exec", name, .. command]);

    public static bool HostLinkExists(string name) => Directory.Exists($"/sys/class/net/{name}");

    public void Dispose()
    {
        foreach (var link in _hostLinks)
        {
            if (HostLinkExists(link))
            {
                TryRun("link", "del", link);
            }
        }
        foreach (var name in _namespaces)
        {
            TryRun("netns", "del", name);
        }
        _state.Dispose();
    }

    private static void TryRun(params string[] args)
    {
        try
        {
            Tool.Run("ip", args);
        }
        catch (InvalidOperationException)
        {
            // cleanup is best effort; the next step may still succeed
        }
    }

    private static string RandomSuffix()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        return string.Create(4, 0, (span, _) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[Random.Shared.Next(alphabet.Length)];
            }
        });
    }
}

using System.Net;
using InitOs.Jails.Network;
using InitOs.Jails.Planning;
using InitOs.Sys;

namespace InitOs.Jails.Running;

/// <summary>
/// The host side of a jail's network: before the clone, the jail's address is allocated and its
/// /etc/resolv.conf, /etc/hostname and /etc/hosts are written under its state directory and
/// added to the plan as read-only binds; between clone and "go" the veth (bridge) or lo (none)
/// is set up in the jail's network namespace; when the jail is gone its veth and address go.
/// </summary>
public static class JailNetworking
{
    public const string StateDirectory = "/run/initos/net";

    public static JailNetworkConfig Config(NetworkPlan network) => new()
    {
        Mode = network.Mode,
        BridgeName = network.Bridge,
        Subnet = IPNetwork.Parse(network.Subnet),
    };

    public static JailPlan Prepare(JailPlan plan, NetworkPlan network, string stateDirectory)
    {
        bool hasNamespace = (plan.CloneFlags & Namespaces.Network) != 0;
        if (network.Mode == NetworkMode.Host == hasNamespace)
        {
            throw new JailException(network.Mode == NetworkMode.Host
                ? $"jail {plan.Id}: --network host shares the host's network, but the spec asks for a network namespace"
                : $"jail {plan.Id}: --network {network.Mode.ToString().ToLowerInvariant()} needs a network namespace in linux.namespaces");
        }
        var config = Config(network);
        config.Validate();
        var address = network.Mode == NetworkMode.Bridge ? new JailNetwork(config, StateDirectory).Addresses.Allocate(plan.Id) : null;
        var etc = Path.Combine(stateDirectory, "etc");
        Directory.CreateDirectory(etc);
        var binds = new List<MountStep>();
        foreach (var file in JailNetworkFiles.For(config, plan.Hostname ?? plan.Id, address, JailNetworkFiles.ReadHostResolvConf()))
        {
            var hostFile = Path.Combine(etc, Path.GetFileName(file.PathInJail));
            File.WriteAllText(hostFile, file.Content);
            binds.Add(new MountStep(file.PathInJail, "bind", hostFile, MountFlags.Bind | MountFlags.ReadOnly, null, MountFlags.None, true));
        }
        return plan with { Mounts = [.. plan.Mounts, .. binds], Network = network };
    }

    /// <summary>Called with the cloned child's pid, before it may go on.</summary>
    public static IPAddress? Attach(JailPlan plan, int pid) =>
        plan.Network is { Mode: not NetworkMode.Host } network
            ? new JailNetwork(Config(network), StateDirectory).AttachJail(plan.Id, $"/proc/{pid}/ns/net")
            : null;

    /// <summary>The jail is gone (or never started): its veth, if any, and its address are freed.</summary>
    public static void Detach(string jailId, NetworkPlan? network)
    {
        if (network is { Mode: NetworkMode.Bridge })
        {
            try
            {
                new JailNetwork(Config(network), StateDirectory).DetachJail(jailId);
            }
            catch (SysException)
            {
                // The namespace died with the jail and took the veth: only the address mattered.
                new JailNetwork(Config(network), StateDirectory).Addresses.Release(jailId);
            }
        }
    }
}

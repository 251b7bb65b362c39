using System.Net;

namespace InitOs.Init.Config;

public enum NetworkMode
{
    Off,
    Dhcp,
    Static,
}

/// <summary>How the sidecar's network comes up: from `ip=` on the command line, or [network] in the config.</summary>
public sealed record NetworkSettings
{
    public NetworkMode Mode { get; init; } = NetworkMode.Off;
    /// <summary>null: the first interface other than lo that appears.</summary>
    public string? Interface { get; init; }
    public IPAddress? Address { get; init; }
    public int PrefixLength { get; init; }
    public IPAddress? Gateway { get; init; }
    public IReadOnlyList<IPAddress> Dns { get; init; } = [];
    public string? Hostname { get; init; }
    /// <summary>How long to wait for the interface to appear and for DHCP to answer.</summary>
    public TimeSpan Wait { get; init; } = TimeSpan.FromSeconds(15);

    public string Describe() => Mode switch
    {
        NetworkMode.Off => "off",
        NetworkMode.Dhcp => $"dhcp on {Interface ?? "the first interface"}",
        _ => $"static {Address}/{PrefixLength}{(Gateway is null ? "" : $" via {Gateway}")} on {Interface ?? "the first interface"}",
    };
}

namespace InitOs.Jails.Network;

public enum NetworkMode
{
    /// <summary>A network namespace of its own with only lo up: no way out.</summary>
    None,

    /// <summary>No network namespace: the jail shares the host's links.</summary>
    Host,

    /// <summary>Its own namespace with eth0, one end of a veth pair whose other end is on the host bridge.</summary>
    Bridge,
}

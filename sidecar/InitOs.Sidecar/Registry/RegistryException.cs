namespace InitOs.Sidecar.Registry;

/// <summary>A registry said no, or said something that does not check out: the message names the registry, the reference and the HTTP status.</summary>
public sealed class RegistryException(string message, int? status = null) : Exception(message)
{
    public int? Status { get; } = status;
}

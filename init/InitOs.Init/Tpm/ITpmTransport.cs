namespace InitOs.Init.Tpm;

/// <summary>Where TPM commands go: the kernel's resource manager (/dev/tpmrm0), or a TPM simulator's socket on a workstation.</summary>
public interface ITpmTransport : IDisposable
{
    /// <summary>Names the TPM in messages ("/dev/tpmrm0").</summary>
    string Name { get; }

    /// <summary>One command's bytes in, the whole response out.</summary>
    byte[] Execute(byte[] command);
}

using InitOs.Sys;

namespace InitOs.Init.Tpm;

/// <summary>
/// The kernel's TPM resource manager: one command written, one response read. Through
/// /dev/tpmrm0 the kernel swaps objects and sessions in and out and flushes what this handle
/// loaded when it is closed, so a failed unseal leaves nothing in the TPM.
/// </summary>
public sealed class TpmDevice : ITpmTransport
{
    public const string ResourceManager = "/dev/tpmrm0";
    private const int MaxResponse = 4096;
    private readonly int _fd;

    private TpmDevice(string path, int fd)
    {
        Name = path;
        _fd = fd;
    }

    public string Name { get; }

    /// <exception cref="SysException">The device is missing (no TPM, or its driver is not loaded) or busy.</exception>
    public static TpmDevice Open(string path = ResourceManager) => new(path, Files.Open(path, OpenFlags.ReadWrite | OpenFlags.CloseOnExec));

    public byte[] Execute(byte[] command)
    {
        Files.WriteAll(_fd, command);
        var buffer = new byte[MaxResponse];
        int n = Files.Read(_fd, buffer);
        return buffer[..n];
    }

    public void Dispose() => Files.Close(_fd);
}

using System.Diagnostics;

namespace InitOs.ImageBuild.Qemu;

/// <summary>
/// A swtpm TPM 2.0: for one QEMU boot (its control socket for QEMU's tpm-emulator backend;
/// swtpm ends when QEMU disconnects), or as a server whose data socket takes TPM commands
/// directly (<see cref="DataSocket"/>, for sealing on a workstation and for host tests). Its
/// state is a temp directory, or <c>stateDirectory</c> kept by the caller: one machine's TPM
/// across several boots (the same storage key, the same sealed secrets). Dispose kills it.
/// </summary>
public sealed class SoftwareTpm : IDisposable
{
    private readonly string _state;
    private readonly bool _ownsState;
    private readonly Process _process;

    public SoftwareTpm(string? stateDirectory = null, bool server = false)
    {
        _ownsState = stateDirectory is null;
        _state = stateDirectory ?? Directory.CreateTempSubdirectory("initos-swtpm-").FullName;
        Directory.CreateDirectory(_state);
        Socket = Path.Combine(_state, "swtpm.sock");
        DataSocket = server ? Path.Combine(_state, "swtpm-data.sock") : null;
        File.Delete(Socket);
        if (DataSocket is not null)
        {
            File.Delete(DataSocket);
        }
        var info = new ProcessStartInfo("swtpm") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        string[] serverArgs = DataSocket is null ? ["--flags", "startup-clear"] : ["--server", $"type=unixio,path={DataSocket}", "--flags", "not-need-init,startup-clear"];
        foreach (var arg in new[] { "socket", "--tpm2", "--tpmstate", $"dir={_state}", "--ctrl", $"type=unixio,path={Socket}" }.Concat(serverArgs))
        {
            info.ArgumentList.Add(arg);
        }
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start swtpm");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!File.Exists(Socket) || (DataSocket is not null && !File.Exists(DataSocket)))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"swtpm did not open {Socket}: {_process.StandardError.ReadToEnd()}");
            }
            Thread.Sleep(10);
        }
    }

    /// <summary>The control socket (QEMU's tpm-emulator chardev).</summary>
    public string Socket { get; }

    /// <summary>With <c>server</c>: the socket raw TPM 2.0 commands go to.</summary>
    public string? DataSocket { get; }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
        if (_ownsState)
        {
            Directory.Delete(_state, recursive: true);
        }
    }
}

using System.Diagnostics;

namespace InitOs.ImageBuild.Qemu;

/// <summary>
/// A swtpm TPM 2.0 for one QEMU boot: its state in a temp directory, its control socket for
/// QEMU's tpm-emulator backend. swtpm ends when QEMU disconnects; dispose kills it regardless.
/// </summary>
public sealed class SoftwareTpm : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("initos-swtpm-").FullName;
    private readonly Process _process;

    public SoftwareTpm()
    {
        Socket = Path.Combine(_state, "swtpm.sock");
        var info = new ProcessStartInfo("swtpm") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "socket", "--tpm2", "--tpmstate", $"dir={_state}", "--ctrl", $"type=unixio,path={Socket}", "--flags", "startup-clear" })
        {
            info.ArgumentList.Add(arg);
        }
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start swtpm");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!File.Exists(Socket))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"swtpm did not open {Socket}: {_process.StandardError.ReadToEnd()}");
            }
            Thread.Sleep(10);
        }
    }

    public string Socket { get; }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
        Directory.Delete(_state, recursive: true);
    }
}

namespace InitOs.TestKit;

/// <summary>
/// The pieces of initos.toml the boot tests give their guests, so a test writes only what is its
/// own: InitOS staying PID 1 that powers off on failure, its module lists, a console shell, an
/// admin door with one key.
/// </summary>
public static class GuestConfig
{
    /// <summary>Loads no modules: a guest that needs no disk or NIC boots fastest.</summary>
    public const string NoModules = "load = []\ncoldplug = false";

    /// <summary>The NIC's modules, found by coldplug: a guest on QEMU's user network.</summary>
    public const string NetworkModules = "load = []\ninclude = [\"virtio_pci\", \"virtio_net\"]\ncoldplug = true";

    /// <summary>A root shell that PID 1 supervises on the serial console (tests type into it).</summary>
    public const string ConsoleShell = "[[service]]\nname = \"console\"\ncommand = [\"/bin/sh\"]\nconsole = true\n";

    /// <summary>InitOS stays PID 1 (<paramref name="mode"/>), a failure powers the guest off, then the test's own tables.</summary>
    public static string Pid1(string rest, string modules = NoModules, string mode = "initramfs") =>
        $"mode = \"{mode}\"\non_failure = \"poweroff\"\n\n[modules]\n{modules}\n\n{rest}";

    /// <summary>DHCP on the first NIC and the sidecar's sshd for the key in <paramref name="publicKeyFile"/>.</summary>
    public static string DhcpAndSidecar(string publicKeyFile) =>
        $"[network]\nmode = \"dhcp\"\n\n[sidecar]\nssh = true\nauthorized_keys = [\"{File.ReadAllText(publicKeyFile).Trim()}\"]\n";
}

using System.Globalization;
using InitOs.Init.Config;
using InitOs.Sidecar.Ssh;

namespace InitOs.TestKit;

/// <summary>
/// Machines simulated on this one by tests/fleet-sim/fleet-sim.sh: each a network namespace
/// (10.214.0.11 and up, on bridge fsim0 at 10.214.0.1) running the real sidecar (`@initos
/// sidecar`: dropbear behind the admin door, the upgrade judge) after a stand-in OS init, with a
/// directory standing in for its ESP, and a stand-in firmware doing systemd-boot's choice and
/// boot counting between boots. Stopped, and its namespaces and bridge removed, on dispose.
/// </summary>
public sealed class SimulatedFleet : IDisposable
{
    /// <summary>The workstation's side of the fleet's bridge: where a registry for it listens.</summary>
    public const string Gateway = "10.214.0.1";

    private readonly TempDirectory _directory = new("initos-fleet-sim-");
    private readonly Dictionary<string, string> _addresses = [];
    private bool _started;

    public static string Script => Path.Combine(RepoPaths.Root, "tests/fleet-sim/fleet-sim.sh");

    public string Directory => _directory.Path;

    /// <summary>
    /// A machine booting <paramref name="uki"/> (an entry initos-V.efi, good), with the config each
    /// version's UKI carries, root's authorized_keys made from <paramref name="admin"/> by the
    /// sidecar's own code, and the versions whose OS does not come up on it.
    /// </summary>
    public void Add(string name, string version, string uki, IReadOnlyDictionary<string, string> configs, AdminKey admin, params string[] failingVersions)
    {
        var host = HostDirectory(name);
        var entries = Path.Combine(host, "esp", "EFI", "Linux");
        System.IO.Directory.CreateDirectory(entries);
        File.Copy(uki, Path.Combine(entries, $"initos-{version}.efi"));
        System.IO.Directory.CreateDirectory(Path.Combine(host, "configs"));
        foreach (var (configVersion, toml) in configs)
        {
            File.WriteAllText(Path.Combine(host, "configs", configVersion + ".toml"), toml);
        }
        File.WriteAllText(Path.Combine(host, "authorized_keys"), SshSidecar.AuthorizedKeysLine(admin));
        if (failingVersions.Length > 0)
        {
            File.WriteAllLines(Path.Combine(host, "fail-versions"), failingVersions);
        }
    }

    /// <summary>Boots every machine added; their addresses by name.</summary>
    public IReadOnlyDictionary<string, string> Start()
    {
        _started = true;
        var output = Tool.Run(Script, "start", Directory);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ');
            _addresses[fields[0]] = fields[1];
        }
        return _addresses;
    }

    public string Address(string name) => _addresses[name];

    public string HostDirectory(string name) => Path.Combine(Directory, "hosts", name);

    /// <summary>The machine's ESP entries, sorted by name.</summary>
    public IReadOnlyList<string> Entries(string name) =>
        System.IO.Directory.GetFiles(Path.Combine(HostDirectory(name), "esp", "EFI", "Linux")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();

    /// <summary>The sidecar's kernel log lines of every boot, each "SECONDS.NANOS line".</summary>
    public IReadOnlyList<string> Log(string name) => ReadLines(Path.Combine(HostDirectory(name), "log"));

    /// <summary>The stand-in firmware's lines: each boot's entry and each shutdown.</summary>
    public IReadOnlyList<string> Boots(string name) => ReadLines(Path.Combine(HostDirectory(name), "boots"));

    /// <summary>The real time (Unix seconds) of the first log line of <paramref name="name"/> containing <paramref name="text"/>, or null.</summary>
    public double? FirstLogged(string name, string text) =>
        Log(name).FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line
            ? double.Parse(line[..line.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture)
            : null;

    public void Dispose()
    {
        if (_started)
        {
            Tool.Run(Script, "stop", Directory);
        }
        _directory.Dispose();
    }

    private static IReadOnlyList<string> ReadLines(string path) => File.Exists(path) ? File.ReadAllLines(path) : [];
}

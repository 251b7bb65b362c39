using InitOs.Init.Config;

namespace InitOs.UnitTests.Config;

public sealed class ConfigLoaderTests
{
    private const string File = "/etc/initos/initos.toml";

    [Fact]
    public void Reads_every_key()
    {
        var config = ConfigLoader.Parse("""
            mode = "switch_root"
            on_failure = "poweroff"
            [root]
            device = "LABEL=os"
            fstype = "btrfs"
            options = "subvol=@"
            read_write = true
            wait_seconds = 12
            init = "/lib/systemd/systemd"
            [modules]
            load = ["virtio_blk", "ext4"]
            include = ["btrfs"]
            coldplug = false
            """, File);
        Assert.Equal(FailurePolicy.PowerOff, config.OnFailure);
        Assert.Equal("LABEL=os", config.Root.Device);
        Assert.Equal("btrfs", config.Root.FsType);
        Assert.Equal("subvol=@", config.Root.Options);
        Assert.True(config.Root.ReadWrite);
        Assert.Equal(12, config.Root.WaitSeconds);
        Assert.Equal("/lib/systemd/systemd", config.Root.Init);
        Assert.Equal(["virtio_blk", "ext4"], config.Modules.Load);
        Assert.Equal(["btrfs"], config.Modules.Include);
        Assert.False(config.Modules.Coldplug);
    }

    [Fact]
    public void Reads_the_upgrade_table_with_its_probes()
    {
        var config = ConfigLoader.Parse("""
            [upgrade]
            keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl release"]
            version = "2.1"
            tries = 2
            keep_previous = 0
            settle_seconds = 5
            deadline_seconds = 60
            policy = "manual"
            registry = "10.0.2.2:5000/initos/servers"
            registry_plain_http = ["10.0.2.2"]
            [[upgrade.probe]]
            tcp = "10.88.0.2:80"
            [[upgrade.probe]]
            http = "http://10.88.0.2/health"
            [[upgrade.probe]]
            command = "systemctl is-system-running"
            """, File).Upgrade;
        Assert.True(config.Enabled);
        Assert.Equal(("2.1", 2, 0, 5, 60, UpgradePolicy.Manual), (config.Version, config.Tries, config.KeepPrevious, config.SettleSeconds, config.DeadlineSeconds, config.Policy));
        Assert.Equal(["tcp 10.88.0.2:80", "http http://10.88.0.2/health", "command 'systemctl is-system-running'"], config.Probes.Select(p => p.Describe()));
        Assert.Equal("10.0.2.2:5000/initos/servers", config.Registry);
        Assert.Equal(["10.0.2.2"], config.RegistryPlainHttp);
        Assert.False(new UpgradeConfig { Version = "1.0" }.Enabled);
    }

    [Fact]
    public void Reads_the_registry_trust_a_pem_ca_and_a_pin()
    {
        const string pem = "-----BEGIN CERTIFICATE-----\nMIIBhTCCASugAwIBAgIUQ0lR\nAbCd+/==\n-----END CERTIFICATE-----\n";
        var config = ConfigLoader.Parse($"[upgrade]\nregistry_ca = \"\"\"\n{pem}\"\"\"\nregistry_pin = \"AB:{new string('c', 62)}\"\n", File).Upgrade;
        Assert.Equal(pem, config.RegistryCa);
        Assert.Equal("ab" + new string('c', 62), config.RegistryPin);
    }

    [Fact]
    public void Dotted_keys_at_top_level_mean_the_same_as_tables()
    {
        var config = ConfigLoader.Parse("root.device = \"UUID=1\"\nmodules.load = []\n", File);
        Assert.Equal("UUID=1", config.Root.Device);
    }

    [Fact]
    public void The_repository_default_config_is_valid()
    {
        var path = Path.Combine(TestKit.RepoPaths.Root, "image-build/defaults/initos.toml");
        var config = ConfigLoader.Load(path);
        Assert.Equal("LABEL=initos-root", config.Root.Device);
    }

    [Theory]
    [InlineData("mode = \"switch_root\"\n\n[root]\nwait_secs = 5\n", 4, "root.wait_secs", "unknown key")]
    [InlineData("mode = \"container\"\n", 1, "mode", "is not one of switch_root, privileged, unprivileged, vm")]
    [InlineData("\n[root]\nwait_seconds = \"ten\"\n", 3, "root.wait_seconds", "expected an integer")]
    [InlineData("[root]\nwait_seconds = 99999\n", 2, "root.wait_seconds", "out of range")]
    [InlineData("[root]\nread_write = 1\n", 2, "root.read_write", "expected true or false")]
    [InlineData("[root]\ninit = \"sbin/init\"\n", 2, "root.init", "expected an absolute path")]
    [InlineData("[modules]\nload = \"ext4\"\n", 2, "modules.load", "expected an array")]
    [InlineData("[modules]\nload = [\"a/b\"]\n", 2, "modules.load", "expected module names")]
    [InlineData("[[root]]\ndevice = \"x\"\n", 1, "root.0", "unknown key")]
    [InlineData("[upgrade]\nversion = \"2.0-rc1\"\n", 2, "upgrade.version", "is not a version such as 1.0")]
    [InlineData("[upgrade]\ntries = 0\n", 2, "upgrade.tries", "out of range 1..9")]
    [InlineData("[upgrade]\nregistry = \"initos/servers\"\n", 2, "upgrade.registry", "is not REGISTRY/REPOSITORY")]
    [InlineData("[upgrade]\nregistry = \"r.example/Servers:2.0\"\n", 2, "upgrade.registry", "is not REGISTRY/REPOSITORY")]
    [InlineData("[upgrade]\nregistry_plain_http = [\"http://10.0.2.2\"]\n", 2, "upgrade.registry_plain_http", "is not a host name or IPv4 address")]
    [InlineData("[upgrade]\nregistry_ca = \"/etc/ssl/ca.pem\"\n", 2, "upgrade.registry_ca", "expected PEM certificates")]
    [InlineData("[upgrade]\nregistry_ca = \"\"\"\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n\"\"\"\n", 2, "upgrade.registry_ca", "nothing else")]
    [InlineData("[upgrade]\nregistry_pin = \"abc\"\n", 2, "upgrade.registry_pin", "64 hex digits")]
    [InlineData("[upgrade]\npolicy = \"sometimes\"\n", 2, "upgrade.policy", "is not one of auto, manual")]
    [InlineData("[[upgrade.probe]]\ntcp = \"localhost\"\n", 2, "upgrade.probe.0.tcp", "is not ADDRESS:PORT with an IPv4 address")]
    [InlineData("[[upgrade.probe]]\nhttp = \"https://x/health\"\n", 2, "upgrade.probe.0.http", "is not an http:// URL to an IPv4 address")]
    [InlineData("\n[[upgrade.probe]]\n", 2, "upgrade.probe", "needs exactly one of tcp")]
    [InlineData("\n[[upgrade.probe]]\ntcp = \"10.0.0.1:80\"\ncommand = \"true\"\n", 2, "upgrade.probe", "needs exactly one of tcp")]
    [InlineData("[[upgrade.probe]]\ncommand = \"true\\nreboot\"\n", 2, "upgrade.probe.0.command", "is one line of at most 1024 characters")]
    [InlineData("mode = \"vm\"\n\n[[upgrade.probe]]\ncommand = \"true\"\n", 3, "upgrade.probe", "in mode vm the OS is a guest with its own kernel")]
    [InlineData("[[crypt]]\nname = \"root\"\n", 1, "crypt", "needs device = \"SPEC\"")]
    [InlineData("[[crypt]]\ndevice = \"/dev/vda\"\nname = \"a/b\"\n", 3, "crypt.0.name", "a /dev/mapper name")]
    [InlineData("[[crypt]]\ndevice = \"/dev/vda\"\nname = \"r\"\n[[crypt]]\ndevice = \"/dev/vdb\"\nname = \"r\"\n", 6, "crypt.1.name", "already exists")]
    [InlineData("[[crypt]]\ndevice = \"/dev/vda\"\nname = \"r\"\nkeys = [\"tpm3\"]\n", 4, "crypt.0.keys", "\"tpm3\" is not a key source (passphrase, tpm2)")]
    [InlineData("[[crypt]]\ndevice = \"vda\"\nname = \"r\"\n", 2, "crypt.0.device", "")]
    [InlineData("[[raid]]\nname = \"md\"\n", 1, "raid", "needs uuid = \"UUID\"")]
    [InlineData("[[raid]]\nuuid = \"1234\"\nname = \"md\"\n", 2, "raid.0.uuid", "an md array UUID (32 hex digits")]
    [InlineData("[[raid]]\nuuid = \"0123456789abcdef0123456789abcdef\"\nname = \"m d\"\n", 3, "raid.0.name", "an md array name")]
    [InlineData("[[lvm]]\nwait_seconds = 3\n", 1, "lvm", "needs vg = \"NAME\"")]
    [InlineData("[[lvm]]\nvg = \"-vg\"\n", 2, "lvm.0.vg", "a volume group name")]
    [InlineData("[[lvm]]\nvg = \"vg\"\n[[lvm]]\nvg = \"vg\"\n", 4, "lvm.1.vg", "listed twice")]
    public void Errors_name_file_line_and_key(string text, int line, string key, string problem)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(text, File));
        Assert.Equal(line, e.Line);
        Assert.Equal(key, e.Key);
        Assert.StartsWith($"{File}:{line}: {key}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Syntax_errors_name_file_and_line()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("mode = \"switch_root\"\nroot = = 3\n", File));
        Assert.StartsWith($"{File}:2: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_crypt_volume_names_its_device_mapping_key_sources_and_tries()
    {
        var config = ConfigLoader.Parse("[[crypt]]\ndevice = \"UUID=79a5471a-7129-43c5-ae59-bc1af98ea249\"\nname = \"root\"\ntries = 5\n\n[root]\ndevice = \"/dev/mapper/root\"\n", File);
        var volume = Assert.Single(config.Crypt);
        Assert.Equal("UUID=79a5471a-7129-43c5-ae59-bc1af98ea249", volume.Device);
        Assert.Equal("root", volume.Name);
        Assert.Equal([CryptKeySource.Passphrase], volume.Keys);
        Assert.Equal(5, volume.Tries);
        Assert.Equal("/dev/mapper/root", config.Root.Device);
    }

    [Fact]
    public void Raid_arrays_and_volume_groups_are_read_with_the_uuid_in_mdadms_form()
    {
        var config = ConfigLoader.Parse("[[raid]]\nuuid = \"0123abcd-4567-89ef-0123-456789ABCDEF\"\nname = \"mirror\"\nwait_seconds = 5\n\n[[lvm]]\nvg = \"vg0\"\n", File);
        var array = Assert.Single(config.Raid);
        Assert.Equal("0123abcd:456789ef:01234567:89abcdef", array.Uuid);
        Assert.Equal(("mirror", 5), (array.Name, array.WaitSeconds));
        Assert.Equal("vg0", Assert.Single(config.Lvm).VolumeGroup);
    }
}

using InitOs.Init.Config;
using InitOs.Sidecar.Admin;
using InitOs.Sidecar.Ssh;

namespace InitOs.UnitTests.Sidecar;

public sealed class AdminRolesTests
{
    private const string Viewer = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDxuS0kUAj/Yh3cO9QbGd7oQF4m+0Ly2n3e1n+Ck1OGW viewer@example";
    private const string Operator = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEpdPAtI1Xs1FXmI8EZGf5rgbM1Q2TjXxt2zNR2DpRql operator@example";

    private static SidecarConfig Parse(string toml) => ConfigLoader.Parse(toml, "initos.toml").Sidecar;

    [Fact]
    public void Each_admin_table_gives_its_key_a_role_and_authorized_keys_are_admins()
    {
        var sidecar = Parse($"[sidecar]\nssh = true\nauthorized_keys = [\"{Operator.Replace("operator", "root", StringComparison.Ordinal).Replace("IEpd", "IEpe", StringComparison.Ordinal)}\"]\n\n[[sidecar.admin]]\nkey = \"{Viewer}\"\n\n[[sidecar.admin]]\nkey = \"{Operator}\"\nrole = \"operator\"\n");
        Assert.Equal([AdminRole.Admin, AdminRole.Viewer, AdminRole.Operator], sidecar.AllAdmins.Select(a => a.Role));
        Assert.Equal([Viewer, Operator], sidecar.Admins.Select(a => a.Key));
    }

    [Theory]
    [InlineData("[[sidecar.admin]]\nrole = \"admin\"\n", "initos.toml:1: sidecar.admin: a [[sidecar.admin]] needs a key")]
    [InlineData("[[sidecar.admin]]\nkey = \"" + Viewer + "\"\nrole = \"root\"\n", "initos.toml:3: sidecar.admin.0.role: \"root\" is not one of viewer, operator, admin")]
    [InlineData("[[sidecar.admin]]\nkey = \"hunter2\"\n", "initos.toml:2: sidecar.admin.0.key: \"hunter2\" is not a public key")]
    [InlineData("[[sidecar.admin]]\nkey = \"" + Viewer + "\"\nwho = \"me\"\n", "initos.toml:3: sidecar.admin.0.who: unknown key")]
    [InlineData("[[sidecar.admin]]\nkey = \"" + Viewer + "\"\n[[sidecar.admin]]\nkey = \"" + Viewer + "\"\nrole = \"admin\"\n", "initos.toml:4: sidecar.admin.1.key: \"" + "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDxu…\" is listed already; a key has one role")]
    public void A_bad_admin_table_names_file_line_and_key(string toml, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => Parse(toml));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_forced_command_names_the_role_and_the_fingerprint_ssh_keygen_prints()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, Operator + "\n");
            var printed = InitOs.Tools.ExternalTool.Run("ssh-keygen", ["-lf", file]).Split(' ')[1];
            Assert.Equal(printed, PublicKeys.Fingerprint(Operator));
            Assert.Equal($"/bin/initos admin --role operator --key {printed}", SshSidecar.ForcedCommand(new AdminKey { Key = Operator, Role = AdminRole.Operator }));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("status", AdminRole.Viewer)]
    [InlineData("services --json", AdminRole.Viewer)]
    [InlineData("logs --follow", AdminRole.Viewer)]
    [InlineData("help", AdminRole.Viewer)]
    [InlineData("services restart sshd", AdminRole.Operator)]
    [InlineData("services kill sshd", AdminRole.Operator)]
    [InlineData("reboot", AdminRole.Operator)]
    [InlineData("poweroff", AdminRole.Operator)]
    [InlineData("jail debug os", AdminRole.Admin)]
    [InlineData("upgrade", AdminRole.Admin)]
    public void Looking_is_a_viewers_changing_state_an_operators_entering_a_jail_an_admins(string command, AdminRole needed) =>
        Assert.Equal(needed, AdminRoles.Needed(command.Split(' ')));
}

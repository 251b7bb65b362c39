using InitOs.Init.Config;
using InitOs.Sidecar.Admin;
using InitOs.TestKit;

namespace InitOs.JailTests;

/// <summary>
/// The admin audit on a real filesystem (btrfs on a loop device, as a data volume is): one line
/// per session, a file that can only grow, never written through a symlinked state directory;
/// and the box's refusals by role.
/// </summary>
[Collection(JailCollection.Name)]
public sealed class AdminAuditTests
{
    private const string Print = "SHA256:3upsqOdXRuGmFDW3T+EnlcxyYmJtNK2o2aODjquNChs";

    [Fact]
    public void Each_session_adds_a_line_to_an_append_only_file_that_cannot_be_truncated_or_rewritten()
    {
        using var volume = new BtrfsLoop();
        var state = Path.Combine(volume.MountPoint, "state");
        Directory.CreateDirectory(state);
        var session = new AdminSession(AdminRole.Operator, Print, "10.0.2.2");

        AdminAudit.Record(session, ["services", "restart", "ticker"], "run", state);
        AdminAudit.Record(session with { Role = AdminRole.Viewer }, ["reboot"], "refused: needs operator", state);

        var audit = Path.Combine(state, AdminAudit.FileName);
        var lines = File.ReadAllLines(audit);
        Assert.Equal(2, lines.Length);
        Assert.Matches($@"^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ initos admin: key {System.Text.RegularExpressions.Regex.Escape(Print)} \(operator\) from 10\.0\.2\.2: services restart ticker: run$", lines[0]);
        Assert.EndsWith("(viewer) from 10.0.2.2: reboot: refused: needs operator", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("-----a", Tool.Run("lsattr", audit), StringComparison.Ordinal);
        Assert.ThrowsAny<Exception>(() => File.WriteAllText(audit, "nothing happened\n"));
        Assert.ThrowsAny<Exception>(() => File.Delete(audit));
        Assert.Equal(lines, File.ReadAllLines(audit));
        Tool.Run("chattr", "-a", audit); // so the volume can be cleaned up
    }

    [Fact]
    public void A_state_directory_that_is_a_symlink_is_not_written_through()
    {
        using var volume = new BtrfsLoop();
        var elsewhere = Path.Combine(volume.MountPoint, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        var state = Path.Combine(volume.MountPoint, "state");
        File.CreateSymbolicLink(state, elsewhere);

        AdminAudit.Record(new AdminSession(AdminRole.Admin, Print, null), ["status"], "run", state);

        Assert.Empty(Directory.GetFileSystemEntries(elsewhere));
    }

    [Theory]
    [InlineData("viewer", "services restart sshd", "initos admin: services restart needs the operator role; this key (" + Print + ") is viewer\n")]
    [InlineData("viewer", "services kill sshd", "initos admin: services kill needs the operator role; this key (" + Print + ") is viewer\n")]
    [InlineData("operator", "jail debug os", "initos admin: jail debug needs the admin role; this key (" + Print + ") is operator\n")]
    public void The_box_refuses_a_command_above_the_keys_role_in_one_line(string role, string command, string expected)
    {
        // Never reboot or poweroff here: on this host those would be real requests to PID 1.
        var result = JailCli.Admin(command, "--role", role, "--key", Print);
        Assert.Equal(2, result.Code);
        Assert.Equal(expected, result.Err);
        Assert.Equal("", result.Out);
    }

    [Theory]
    [InlineData("status; cat /etc/passwd", "initos admin: 'status;' is not a word an admin command takes")]
    [InlineData("logs $(id)", "initos admin: '$(id)' is not a word an admin command takes")]
    [InlineData("upgrade apply --from 10.0.2.2:5000/initos/os:2.0", "initos admin: upgrade apply needs the admin role")]
    [InlineData("upgrade apply --from 10.0.2.2:5000/initos/os@sha256:0123abcd", "initos admin: upgrade apply needs the admin role")]
    public void Words_are_names_paths_and_registry_references_nothing_a_shell_would_read(string words, string expected)
    {
        // A viewer's key: words that pass the check are then refused for the role, so nothing runs.
        var result = JailCli.Admin(words, "--role", "viewer", "--key", Print);
        Assert.Equal(2, result.Code);
        Assert.StartsWith(expected, result.Err, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public void A_role_the_box_does_not_know_is_refused_not_taken_as_admin()
    {
        var result = JailCli.Admin("status", "--role", "root", "--key", Print);
        Assert.Equal(2, result.Code);
        Assert.Contains("not a role and a key fingerprint", result.Err, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }
}

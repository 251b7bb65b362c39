using InitOs.Init.Devices;
using InitOs.Os.Chain;

namespace InitOs.UnitTests.Os.Chain;

public sealed class ChainParsingTests
{
    [Fact]
    public void The_first_double_dash_ends_the_helpers_arguments_and_the_rest_is_run_as_given()
    {
        var parsed = ChainArguments.Split("env", ["/e", "--", "initos", "chain", "user", "app", "--", "app", "--flag"]);
        Assert.Equal(["/e"], parsed.HelperArguments);
        Assert.Equal(["initos", "chain", "user", "app", "--", "app", "--flag"], parsed.Command);
        Assert.Contains("no \"--\"", Assert.Throws<ChainException>(() => ChainArguments.Split("env", ["/e"])).Message, StringComparison.Ordinal);
        Assert.Contains("nothing after", Assert.Throws<ChainException>(() => ChainArguments.Split("env", ["/e", "--"])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_env_file_is_read_literally_and_a_bad_line_is_named_by_file_and_line()
    {
        var values = EnvStep.Parse("app.env", "# settings\nA=1\n\nB=x=y \"q\"\r\n  # indented comment\nC=\n");
        Assert.Equal([new("A", "1"), new("B", "x=y \"q\""), new("C", "")], values);
        Assert.Equal("app.env:2: \"oops\" is not KEY=VALUE", Assert.Throws<ChainException>(() => EnvStep.Parse("app.env", "A=1\noops\n")).Message);
        Assert.StartsWith("app.env:1: \"1A\" is not a variable name", Assert.Throws<ChainException>(() => EnvStep.Parse("app.env", "1A=2")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Later_values_replace_earlier_ones_of_the_same_name()
    {
        var state = new ChainState(["PATH=/bin", "A=old", "AB=keep"]).With([new("A", "new"), new("HOME", "/h")]);
        Assert.Equal(["PATH=/bin", "AB=keep", "A=new", "HOME=/h"], state.Environment);
    }

    private static readonly UserDatabase Users = new(
        UserDatabase.ParseUsers("passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nnohome:x:1001:1001:::/bin/sh\n"),
        UserDatabase.ParseGroups("group", "root:x:0:\napp:x:1000:\nvideo:x:44:app,other\naudio:x:29:other\nstaff:x:50:app\n"));

    [Fact]
    public void A_user_gets_its_primary_group_and_the_groups_that_list_it()
    {
        var app = UserStep.Resolve("app", Users);
        Assert.Equal((1000u, 1000u, "/home/app", "app"), (app.Uid, app.Gid, app.Home, app.Name));
        Assert.Equal([44u, 50u, 1000u], app.Groups);
        var byNumber = UserStep.Resolve("1000", Users);
        Assert.Equal((app.Uid, app.Gid, app.Name), (byNumber.Uid, byNumber.Gid, byNumber.Name));
        Assert.Equal(app.Groups, byNumber.Groups);
    }

    [Fact]
    public void A_group_given_replaces_the_primary_group_and_drops_the_supplementary_ones()
    {
        var app = UserStep.Resolve("app:video", Users);
        Assert.Equal((1000u, 44u), (app.Uid, app.Gid));
        Assert.Empty(app.Groups);
        Assert.Equal(77u, UserStep.Resolve("app:77", Users).Gid);
    }

    [Fact]
    public void An_unknown_number_is_taken_as_it_is_and_an_unknown_name_is_refused_naming_the_users()
    {
        var stranger = UserStep.Resolve("4242", Users);
        Assert.Equal((4242u, 4242u, "/"), (stranger.Uid, stranger.Gid, stranger.Home));
        Assert.Equal("no user \"bob\" in /etc/passwd (users: root, app, nohome)", Assert.Throws<ChainException>(() => UserStep.Resolve("bob", Users)).Message);
        Assert.StartsWith("no group \"wheel\"", Assert.Throws<ChainException>(() => UserStep.Resolve("app:wheel", Users)).Message, StringComparison.Ordinal);
        Assert.Throws<ChainException>(() => UserStep.Resolve("app:", Users));
        Assert.Equal("passwd:1: 3 fields, expected 7", Assert.Throws<ChainException>(() => UserDatabase.ParseUsers("passwd", "root:x:0\n")).Message);
        Assert.Equal("/", UserStep.Resolve("nohome", Users).Home);
    }

    [Fact]
    public void Wait_for_reads_tcp_and_file_targets_and_a_timeout()
    {
        var (tcp, timeout) = WaitForStep.Parse(["tcp:db.internal:5432", "--timeout", "2.5"]);
        Assert.Equal(new WaitForStep.TcpTarget("tcp:db.internal:5432", "db.internal", 5432), tcp);
        Assert.Equal(TimeSpan.FromSeconds(2.5), timeout);
        Assert.Contains("IPv6", Assert.Throws<ChainException>(() => WaitForStep.ParseTarget("tcp:[::1]:80")).Message, StringComparison.Ordinal);
        Assert.Equal(new WaitForStep.FileTarget("file:/run/ready", "/run/ready"), WaitForStep.Parse(["file:/run/ready"]).Target);
        Assert.Equal(TimeSpan.FromSeconds(30), WaitForStep.Parse(["file:/x"]).Timeout);
        foreach (var bad in new[] { "tcp:host", "tcp::80", "tcp:h:0", "tcp:h:70000", "udp:h:1", "file:" })
        {
            Assert.Throws<ChainException>(() => WaitForStep.ParseTarget(bad));
        }
        Assert.Throws<ChainException>(() => WaitForStep.Parse(["file:/x", "--timeout", "0"]));
        Assert.Throws<ChainException>(() => WaitForStep.Parse(["--timeout", "3"]));
    }

    [Fact]
    public void A_port_is_waited_for_until_it_listens_and_a_closed_one_times_out_with_the_reason()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        WaitForStep.Wait(WaitForStep.ParseTarget($"tcp:localhost:{port}"), TimeSpan.FromSeconds(5));
        listener.Stop();
        var e = Assert.Throws<ChainException>(() => WaitForStep.Wait(WaitForStep.ParseTarget($"tcp:127.0.0.1:{port}"), TimeSpan.FromMilliseconds(300)));
        Assert.StartsWith($"tcp:127.0.0.1:{port} not ready after 0.3 s: connect(127.0.0.1:{port})", e.Message, StringComparison.Ordinal);
        Assert.Contains("no-such-host.invalid", Assert.Throws<ChainException>(() => WaitForStep.Wait(WaitForStep.ParseTarget("tcp:no-such-host.invalid:80"), TimeSpan.FromMilliseconds(200))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_never_appears_times_out_naming_it()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.Throws<ChainException>(() => WaitForStep.Wait(new WaitForStep.FileTarget("file:/nonexistent/x", "/nonexistent/x"), TimeSpan.FromMilliseconds(400)));
        Assert.Equal("file:/nonexistent/x not ready after 0.4 s: it does not exist", e.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(350), TimeSpan.FromSeconds(3));
    }

    private static readonly BlockDevice Data = new("vdb", "/dev/vdb", 64 << 20, null, new FilesystemInfo("ext4", "1111-2222", "data"), null);

    [Fact]
    public void Mount_takes_tmpfs_as_it_is_and_finds_a_labelled_disk_and_its_type()
    {
        Assert.Equal(("tmpfs", "tmpfs"), MountStep.Resolve(MountStep.Parse(["-t", "tmpfs", "-o", "size=1m,mode=700", "none", "/scratch"]), () => throw new InvalidOperationException("no scan for tmpfs")));
        Assert.Equal(("tmpfs", "tmpfs"), MountStep.Resolve(MountStep.Parse(["tmpfs", "/scratch"]), () => []));
        Assert.Equal(("/dev/vdb", "ext4"), MountStep.Resolve(MountStep.Parse(["LABEL=data", "/data"]), () => [Data]));
        Assert.Equal(("/dev/vdb", "ext4"), MountStep.Resolve(MountStep.Parse(["UUID=1111-2222", "/data"]), () => [Data]));
        Assert.Equal(("/srv", null), MountStep.Resolve(MountStep.Parse(["-o", "bind,ro", "/srv", "/data"]), () => []));
        Assert.Equal(["size=1m", "mode=700"], MountStep.Parse(["-o", "size=1m,mode=700", "tmpfs", "/x"]).Options);
    }

    [Fact]
    public void A_disk_that_is_not_there_is_refused_naming_the_devices_seen()
    {
        var e = Assert.Throws<ChainException>(() => MountStep.Resolve(MountStep.Parse(["LABEL=logs", "/logs"]), () => [Data]));
        Assert.Equal("no device is LABEL=logs; devices seen: vdb (64 MiB ext4 LABEL=data UUID=1111-2222)", e.Message);
        Assert.Contains("devices seen: none", Assert.Throws<ChainException>(() => MountStep.Resolve(MountStep.Parse(["LABEL=logs", "/logs"]), () => [])).Message, StringComparison.Ordinal);
        Assert.Contains("not an absolute path", Assert.Throws<ChainException>(() => MountStep.Parse(["tmpfs", "scratch"])).Message, StringComparison.Ordinal);
        Assert.Contains("unknown option -x", Assert.Throws<ChainException>(() => MountStep.Parse(["-x", "tmpfs", "/s"])).Message, StringComparison.Ordinal);
        Assert.Contains("is not tmpfs, a /dev path", Assert.Throws<ChainException>(() => MountStep.Resolve(MountStep.Parse(["data", "/d"]), () => [])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Authorized_keys_are_checked_line_by_line()
    {
        const string Key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@desk";
        Assert.Equal(2, AuthorizedKeys.Check("keys", $"# admins\n{Key}\n\nno-pty,command=\"x\" {Key}\n"));
        Assert.Equal("keys:2: no public key (expected a type such as ssh-ed25519, then its base64 blob)", Assert.Throws<ChainException>(() => AuthorizedKeys.Check("keys", $"{Key}\nhunter2\n")).Message);
        Assert.Equal("keys:1: the ssh-rsa key's base64 blob is damaged or of another type", Assert.Throws<ChainException>(() => AuthorizedKeys.Check("keys", Key.Replace("ssh-ed25519 ", "ssh-rsa ", StringComparison.Ordinal))).Message);
        Assert.Equal("keys: no keys: the door would open for nobody", Assert.Throws<ChainException>(() => AuthorizedKeys.Check("keys", "# none\n")).Message);
    }

    [Fact]
    public void Sshd_needs_a_port_keys_and_a_dropbear()
    {
        Assert.Equal(new SshdStep.Options(2222, "/k", "/usr/sbin/dropbear"), SshdStep.Parse(["--port", "2222", "--keys", "/k"], () => "/usr/sbin/dropbear"));
        Assert.Equal("/opt/db", SshdStep.Parse(["--keys", "/k", "--port", "22", "--dropbear", "/opt/db"], () => null).Dropbear);
        Assert.Contains("no dropbear", Assert.Throws<ChainException>(() => SshdStep.Parse(["--port", "22", "--keys", "/k"], () => null)).Message, StringComparison.Ordinal);
        Assert.Contains("--port P is required", Assert.Throws<ChainException>(() => SshdStep.Parse(["--keys", "/k"], () => "/d")).Message, StringComparison.Ordinal);
        Assert.Contains("not a port", Assert.Throws<ChainException>(() => SshdStep.Parse(["--port", "0", "--keys", "/k"], () => "/d")).Message, StringComparison.Ordinal);
        Assert.Contains("unknown argument \"--user\"", Assert.Throws<ChainException>(() => SshdStep.Parse(["--user", "x", "--port", "1"], () => "/d")).Message, StringComparison.Ordinal);
    }
}

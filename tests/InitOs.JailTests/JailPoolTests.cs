using InitOs.TestKit;
using InitOs.Sys;

namespace InitOs.JailTests;

/// <summary>
/// Jails whose root is an overlay: lower = the bundle's rootfs, upper/work = a fresh slot of a
/// quota'd btrfs pool (on a loop file), destroyed and re-created after each run.
/// </summary>
[Collection(JailCollection.Name)]
public sealed class JailPoolTests : IDisposable
{
    private const long Quota = 32L << 20;
    // The pool's image lives on its own tmpfs, so the host filesystem (where the bundle is)
    // shows whether a jail's writes reach anything but the pool.
    private readonly TmpfsMount _imageFs = new(512L << 20);
    private readonly BtrfsLoop _btrfs;
    private readonly string _pool;

    public JailPoolTests()
    {
        _btrfs = new BtrfsLoop(imageDirectory: _imageFs.Path);
        _pool = Path.Combine(_btrfs.MountPoint, "pool");
        Directory.CreateDirectory(_pool);
        var init = JailCli.Run("pool", "init", _pool, "--slots", "2", "--quota", Quota.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(init.Code == 0, init.ToString());
    }

    public void Dispose()
    {
        _btrfs.Dispose();
        _imageFs.Dispose();
    }

    [Fact]
    public void Writes_land_in_the_slot_and_are_gone_after_the_run_the_image_untouched()
    {
        using var bundle = new TestBundle();
        bundle.WithShell("echo jail > /written; cat /written; ls /proc/mounts >/dev/null; grep ' / ' /proc/mounts");
        var first = JailCli.Run("run", "--pool", _pool, "--bundle", bundle.Save(), JailCli.NewId("pool"));

        Assert.True(first.Code == 0, first.ToString());
        Assert.Contains("jail\n", first.Out, StringComparison.Ordinal);
        Assert.Contains("overlay / overlay", first.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(bundle.Rootfs, "written")), "the write reached the image");
        foreach (var slot in Directory.GetDirectories(_pool, "slot-*"))
        {
            Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(slot, "upper")));
        }
        Assert.Empty(Directory.GetFiles(_pool, "*.taken"));

        bundle.WithShell("test -e /written && echo LEFTOVER || echo FRESH");
        var second = JailCli.Run("run", "--pool", _pool, "--bundle", bundle.Save(), JailCli.NewId("pool"));
        Assert.Contains("FRESH", second.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void The_quota_stops_a_disk_filler_and_the_hosts_space_is_untouched()
    {
        using var bundle = new TestBundle();
        bundle.WithShell("dd if=/dev/zero of=/fill bs=1M count=200; echo dd=$?");
        var hostBefore = (long)FileSystems.Status(bundle.Directory).AvailableBytes;
        var result = JailCli.Run("run", "--pool", _pool, "--bundle", bundle.Save(), JailCli.NewId("filler"));
        var hostAfter = (long)FileSystems.Status(bundle.Directory).AvailableBytes;

        Assert.Contains("Disk quota exceeded", result.Err, StringComparison.Ordinal);
        Assert.Contains("dd=1", result.Out, StringComparison.Ordinal);
        // Writes that escaped the quota would take about 200 MiB from the host; other programs on a
        // busy host move its free space by a few MiB meanwhile (16 MiB was seen), so the bar is 64 MiB.
        Assert.True(hostBefore - hostAfter < 64L << 20, $"the host's filesystem lost {hostBefore - hostAfter} bytes");
        // And the pool's own image grew by about the quota, not by the 200 MiB asked for.
        Assert.True(512L << 20 > _imageFs.FreeBytes + Quota - (8L << 20), "the pool image did not take the filler's writes");
    }

    [Fact]
    public void An_unprivileged_jail_writes_its_upper_as_its_host_range_and_the_slot_is_fresh_after_delete()
    {
        using var bundle = new TestBundle();
        bundle.Config["linux"]!["namespaces"]!.AsArray().Add(System.Text.Json.Nodes.JsonNode.Parse("""{ "type": "user" }"""));
        bundle.WithShell("echo jail > /written && mkdir /made && echo WROTE uid=$(id -u); exec sleep 600");
        var id = JailCli.NewId("userpool");
        try
        {
            var created = JailCli.Run("create", "--pool", _pool, "--bundle", bundle.Save(), id);
            Assert.True(created.Code == 0, created.ToString());
            Assert.Equal(0, JailCli.Run("start", id).Code);
            var written = WaitForUpperEntry("written");
            var hostRoot = File.ReadAllText($"/proc/{JailPid(id)}/uid_map").Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            Assert.NotEqual("0", hostRoot);
            Assert.Equal($"{hostRoot}:{hostRoot}", Tool.Run("stat", "-c", "%u:%g", written).Trim());
            Assert.Equal($"{hostRoot}:{hostRoot}", Tool.Run("stat", "-c", "%u:%g", Path.Combine(Path.GetDirectoryName(written)!, "made")).Trim());
            Assert.False(File.Exists(Path.Combine(bundle.Rootfs, "written")), "the write reached the image");
        }
        finally
        {
            JailCli.Run("delete", "--force", id);
        }
        foreach (var slot in Directory.GetDirectories(_pool, "slot-*"))
        {
            Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(slot, "upper")));
            Assert.Equal("0:0", Tool.Run("stat", "-c", "%u:%g", Path.Combine(slot, "upper")).Trim());
        }
    }

    private string WaitForUpperEntry(string name)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var found = Directory.GetDirectories(_pool, "slot-*").Select(s => Path.Combine(s, "upper", name)).FirstOrDefault(File.Exists);
            if (found is not null)
            {
                return found;
            }
            Thread.Sleep(20);
        }
        throw new TimeoutException($"no slot's upper got /{name}");
    }

    private static int JailPid(string id)
    {
        using var json = System.Text.Json.JsonDocument.Parse(JailCli.Run("state", id).Out);
        return json.RootElement.GetProperty("pid").GetInt32();
    }

    [Fact]
    public void A_pool_path_that_is_not_a_pool_is_an_error_naming_it()
    {
        using var bundle = new TestBundle();
        var result = JailCli.Run("run", "--pool", bundle.Directory, "--bundle", bundle.Save(), JailCli.NewId("nopool"));
        Assert.Equal(1, result.Code);
        Assert.Contains($"{bundle.Directory} is not a jail pool", result.Err, StringComparison.Ordinal);
    }
}

using InitOs.Init.Supervision;
using InitOs.Sys;
using InitOs.TestKit;

namespace InitOs.JailTests;

/// <summary>PID 1's status file on a filesystem that fills up (a real tmpfs): it stays true.</summary>
[Collection(JailCollection.Name)]
public sealed class ReservedFileTests
{
    private static void Fill(string directory)
    {
        var result = Tool.Exec("dd", ["if=/dev/zero", $"of={Path.Combine(directory, "fill")}", "bs=64k"]);
        Assert.Contains("No space left on device", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void The_status_is_replaced_whole_when_the_filesystem_is_full_and_a_plain_write_is_not()
    {
        using var run = new TmpfsMount(1L << 20);
        var path = Path.Combine(run.Path, "services.json");
        StatusFile.Write([new ServiceStatus { Name = "ticker", State = ServiceState.Running, Pid = 10, Starts = 1 }], 0, path);
        Fill(run.Path);

        StatusFile.Write([new ServiceStatus { Name = "ticker", State = ServiceState.Running, Pid = 11, Starts = 2 }], 5, path);
        StatusFile.Write([new ServiceStatus { Name = "ticker", State = ServiceState.Running, Pid = 12, Starts = 3 }], 7, path);

        var table = StatusFile.Table(path);
        Assert.Matches(@"ticker\s+running\s+12\s+3", table);
        Assert.Contains("orphans reaped by PID 1: 7", table, StringComparison.Ordinal);
        Assert.StartsWith("{", StatusFile.Read(path), StringComparison.Ordinal);
        Assert.EndsWith("}", StatusFile.Read(path), StringComparison.Ordinal);
        // The control: what the status file used to do (a new file beside, then rename) fails here.
        Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(run.Path, "services.json.tmp"), new string('x', 8192)));
    }

    [Fact]
    public void A_longer_status_grows_the_reserve_and_a_shorter_one_leaves_no_old_text_behind()
    {
        using var run = new TmpfsMount(4L << 20);
        var path = Path.Combine(run.Path, "status");
        var large = "{\"x\":\"" + new string('a', 100_000) + "\"}";
        ReservedFile.Replace(path, System.Text.Encoding.UTF8.GetBytes(large));
        ReservedFile.Replace(path, "{}"u8);
        ReservedFile.Replace(path, "{\"y\":1}"u8);
        Assert.Equal("{\"y\":1}", ReservedFile.ReadText(path));
        Assert.Equal(["status", "status.spare"], Directory.GetFiles(run.Path).Select(Path.GetFileName).Order());
    }
}

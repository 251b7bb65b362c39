using InitOs.Sys;

namespace InitOs.UnitTests.Sys;

public sealed class AtomicFileTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("initos-atomic-");

    public void Dispose() => _directory.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_directory.FullName, name);

    [Fact]
    public void WriteText_replaces_the_whole_file_and_leaves_nothing_beside_it()
    {
        var path = PathOf("pool.conf");
        File.WriteAllText(path, "slots=1\nquota=1\nan older, longer file\n");

        AtomicFile.WriteText(path, "slots=4\nquota=8\n");

        Assert.Equal("slots=4\nquota=8\n", File.ReadAllText(path));
        Assert.Equal(["pool.conf"], _directory.GetFiles().Select(f => f.Name));
    }

    [Fact]
    public void Replace_puts_a_finished_output_in_place_of_the_old_one()
    {
        var output = PathOf("disk.img");
        File.WriteAllText(output, "old image");
        File.WriteAllText(output + ".tmp", "new image");

        AtomicFile.Replace(output + ".tmp", output);

        Assert.Equal("new image", File.ReadAllText(output));
        Assert.False(File.Exists(output + ".tmp"));
    }

    [Fact]
    public void Replace_without_a_finished_output_leaves_the_old_one_untouched()
    {
        var output = PathOf("disk.img");
        File.WriteAllText(output, "old image");

        Assert.Throws<FileNotFoundException>(() => AtomicFile.Replace(output + ".tmp", output));

        Assert.Equal("old image", File.ReadAllText(output));
    }
}

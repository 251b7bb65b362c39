using InitOs.ImageBuild.Oci;
using InitOs.Sys;
using InitOs.TestKit;

namespace InitOs.JailTests.Images;

/// <summary>
/// `initos build rootfs --from-oci`: a synthetic image whose layers delete, replace and
/// re-create files and directories (whiteouts, an opaque directory, a file over a directory and
/// back, hard links, devices, a fifo, set-id and sticky bits, binary and text xattrs, entries
/// through symlinks that point at / and above it) unpacks to the same tree as `umoci unpack`,
/// file by file; every output format holds that tree, and so does the image fetched from a
/// registry; a flipped bit (in a layout or in the registry) or a lying diff ID is refused with
/// nothing written.
/// </summary>
public sealed class OciRootfsTests
{
    /// <summary>VFS_CAP_REVISION_2 with the effective bit: cap_net_raw permitted (binary, with NUL bytes).</summary>
    private static readonly byte[] NetRawCapability = [0x01, 0, 0, 0x02, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    [Fact]
    public void A_synthetic_image_unpacks_as_umoci_unpacks_it_and_never_outside_its_root()
    {
        using var work = new TempDirectory("initos-oci-");
        var layout = SyntheticLayout(work.Path);
        var ours = Path.Combine(work.Path, "ours");
        var result = OciRootfs.Build(layout, new OciRootfs.Options(RootfsFormat.Directory, ours, "unused", "v1"));
        Tool.Run("umoci", "unpack", "--image", layout + ":v1", Path.Combine(work.Path, "umoci"));

        var expected = TreeListing.Of(Path.Combine(work.Path, "umoci", "rootfs"));
        var differences = TreeListing.Differences(expected, TreeListing.Of(ours));
        Assert.True(differences.Count == 0, $"{differences.Count} of {expected.Count} entries differ from umoci's:\n{string.Join('\n', differences)}");
        Assert.Equal(3, result.Layers);

        // What the layers say, checked directly as well.
        Assert.Equal("10.0.0.1 layer3\n", File.ReadAllText(Path.Combine(ours, "etc/hosts")));
        Assert.False(File.Exists(Path.Combine(ours, "data/gone/x")));
        Assert.True(File.Exists(Path.Combine(ours, "data/gone/y")));
        Assert.False(File.Exists(Path.Combine(ours, "data/keep/a")));
        Assert.Equal("b2", File.ReadAllText(Path.Combine(ours, "data/keep/sub/b")));
        Assert.False(File.Exists(Path.Combine(ours, "opq/lower1")));
        Assert.False(Directory.Exists(Path.Combine(ours, "opq/sub")));
        Assert.True(File.Exists(Path.Combine(ours, "opq/new1")));
        Assert.True(Directory.Exists(Path.Combine(ours, "rep/file1")));
        Assert.True(File.Exists(Path.Combine(ours, "rep/dir1")));
        Assert.True(File.Exists(Path.Combine(ours, "usr/lib/libz.so")));
        Assert.Equal("usr/lib", new FileInfo(Path.Combine(ours, "lib")).LinkTarget);
        Assert.True(File.Exists(Path.Combine(ours, "etc/escaped")));
        Assert.True(File.Exists(Path.Combine(ours, "landed")));
        Assert.False(File.Exists("/landed"));
        Assert.False(File.Exists("/etc/escaped"));
        var tool = Files.Status(Path.Combine(ours, "bin/tool"))!.Value;
        Assert.Equal((0x9EDu, 1000u, 1000u), (tool.Mode & 0xFFF, tool.Uid, tool.Gid));
        Assert.Equal(NetRawCapability, Xattrs.Get(Path.Combine(ours, "bin/tool"), "security.capability"));
        Assert.Equal(Inode(Path.Combine(ours, "etc/hosts")), Inode(Path.Combine(ours, "etc/hosts2")));
        Assert.Equal(Inode(Path.Combine(ours, "bin/tool")), Inode(Path.Combine(ours, "bin/tool2")));
    }

    [Fact]
    public void Every_output_format_and_a_docker_archive_hold_the_same_tree()
    {
        using var work = new TempDirectory("initos-oci-");
        var image = SyntheticImage(work.Path);
        var layout = Path.Combine(work.Path, "layout");
        image.WriteLayout(layout, "v1");
        var archive = Path.Combine(work.Path, "saved.tar");
        image.WriteDockerArchive(archive, "synthetic:v1");

        var directory = Path.Combine(work.Path, "dir");
        OciRootfs.Build(layout, new OciRootfs.Options(RootfsFormat.Directory, directory, "unused"));
        var expected = TreeListing.Of(directory);

        var fromArchive = Path.Combine(work.Path, "from-archive");
        OciRootfs.Build(archive, new OciRootfs.Options(RootfsFormat.Directory, fromArchive, "unused", "v1"));
        Assert.Empty(TreeListing.Differences(expected, TreeListing.Of(fromArchive)));

        foreach (var format in new[] { RootfsFormat.Ext4, RootfsFormat.Erofs, RootfsFormat.Squashfs, RootfsFormat.Btrfs })
        {
            var file = Path.Combine(work.Path, $"rootfs.{format}");
            OciRootfs.Build(layout, new OciRootfs.Options(format, file, "oci-test"));
            var mounted = Mounted(file, work.File($"mnt-{format}"));
            var differences = TreeListing.Differences(expected, mounted);
            Assert.True(differences.Count == 0, $"{format}: {differences.Count} entries differ:\n{string.Join('\n', differences)}");
        }
    }

    [Fact]
    public void The_vm_format_is_the_tree_with_the_modules_of_the_kit_kernel_beside_it()
    {
        using var work = new TempDirectory("initos-oci-");
        var layout = work.File("layout");
        SyntheticImage(work.Path).WriteLayout(layout, "v1");
        var expected = TreeListing.Of(Built(layout, work.File("dir")));
        var kernel = InitOs.ImageBuild.Kernel.KernelFolder.Open(RepoPaths.Require(RepoPaths.KernelDirectory, "make kernel"));

        var image = work.File("vm.img");
        var result = OciRootfs.Build(layout, new OciRootfs.Options(RootfsFormat.Vm, image, "oci-vm", KernelDirectory: kernel.Root));
        Assert.Equal(kernel.Version, result.KernelVersion);
        var modules = $"usr/lib/modules/{kernel.Version}";
        Directory.CreateDirectory(work.File("mnt"));
        Tool.Run("mount", "-o", "loop,ro", image, work.File("mnt"));
        try
        {
            // The image's own tree unchanged (lib is its link to usr/lib, so the modules went under usr/lib).
            var listing = TreeListing.Of(work.File("mnt"));
            var ownTree = new SortedDictionary<string, string>(listing.Where(e => e.Key != "lost+found" && e.Key != "usr/lib/modules" && !e.Key.StartsWith("usr/lib/modules/", StringComparison.Ordinal)).ToDictionary(), StringComparer.Ordinal);
            Assert.Empty(TreeListing.Differences(expected, ownTree));
            // The kernel's modules as its package installs them: every file, byte for byte.
            var kernelModules = TreeListing.Of(kernel.ModuleDirectory);
            var inImage = new SortedDictionary<string, string>(listing.Where(e => e.Key == modules || e.Key.StartsWith(modules + "/", StringComparison.Ordinal))
                .ToDictionary(e => e.Key == modules ? "" : e.Key[(modules.Length + 1)..], e => e.Value), StringComparer.Ordinal);
            Assert.Empty(TreeListing.Differences(kernelModules, inImage));
            Assert.True(File.Exists(Path.Combine(work.File("mnt"), modules, "modules.dep")));
        }
        finally
        {
            Tool.Run("umount", work.File("mnt"));
        }
    }

    [Fact]
    public void An_image_in_podmans_storage_gives_the_same_tree_as_its_archive()
    {
        using var work = new TempDirectory("initos-oci-");
        // Without the entries written through symlinks: podman's vfs storage cannot give them back.
        var image = SyntheticImage(work.Path, throughSymlinks: false);
        var archive = work.File("saved.tar");
        image.WriteDockerArchive(archive, "synthetic:v1");
        var fromArchive = work.File("from-archive");
        OciRootfs.Build(archive, new OciRootfs.Options(RootfsFormat.Directory, fromArchive, "unused"));

        // A podman storage of its own (vfs: no mounts), its run-time state kept in the scratch
        // directory; podman's machine-wide blob cache and network lock removed after when this test made them.
        var storage = work.File("storage");
        using var blobCache = new RemovedAfterwards("/var/lib/containers");
        // podman 4.3 takes the CNI network lock on every command, making it on first use.
        using var networkLock = new RemovedAfterwards("/etc/cni/net.d/cni.lock");
        var loaded = Tool.Run("podman", "--root", storage, "--runroot", work.File("run"), "--tmpdir", work.File("tmp"), "--events-backend", "none",
            "--storage-driver", "vfs", "load", "--input", archive);
        var name = loaded.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith("Loaded image", StringComparison.Ordinal)).Split(' ').Last();
        var export = Directory.CreateDirectory(work.File("export")).FullName;
        PodmanImage.Save(name, Path.Combine(export, "image.tar"), storage);
        var fromPodman = work.File("from-podman");
        OciRootfs.Build(Path.Combine(export, "image.tar"), new OciRootfs.Options(RootfsFormat.Directory, fromPodman, "unused"));
        Assert.Empty(TreeListing.Differences(TreeListing.Of(fromArchive), TreeListing.Of(fromPodman)));

        var missing = Assert.Throws<ArgumentException>(() => PodmanImage.Save("no-such-image:v9", Path.Combine(export, "other.tar"), storage));
        Assert.Contains("podman image no-such-image:v9", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_image_in_a_registry_gives_the_tree_of_its_layout_and_a_changed_blob_there_is_refused()
    {
        using var work = new TempDirectory("initos-oci-");
        var layout = work.File("layout");
        SyntheticImage(work.Path).WriteLayout(layout, "v1");
        var expected = TreeListing.Of(Built(layout, work.File("from-layout")));
        using var registry = new LocalRegistry();
        var options = new InitOs.Sidecar.Registry.RegistryOptions { PlainHttpHosts = ["127.0.0.1"] };
        using var client = InitOs.ImageBuild.Registry.HttpClientTransport.Client(registry.Address, options);
        Push(layout, client, "initos/synthetic", "v1");
        var reference = InitOs.Sidecar.Registry.ImageReference.Parse($"{registry.Address}/initos/synthetic:v1");

        var fromRegistry = work.File("from-registry");
        var result = OciRegistryImage.Build(reference, client, new InitOs.Sidecar.Registry.BlobCache(work.File("cache")), new OciRootfs.Options(RootfsFormat.Directory, fromRegistry, "unused"));
        Assert.Equal(3, result.Layers);
        Assert.Empty(TreeListing.Differences(expected, TreeListing.Of(fromRegistry)));

        // One byte of a layer changed in the registry's own storage: refused naming the blob, nothing written.
        using var index = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(layout, "index.json")));
        var manifestDigest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        using var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "blobs", "sha256", manifestDigest[7..])));
        var layer = manifest.RootElement.GetProperty("layers")[1].GetProperty("digest").GetString()!;
        var stored = registry.BlobFile(layer);
        var bytes = File.ReadAllBytes(stored);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(stored, bytes);
        var tampered = work.File("tampered");
        var refused = Assert.Throws<InitOs.Sidecar.Registry.RegistryException>(() =>
            OciRegistryImage.Build(reference, client, new InitOs.Sidecar.Registry.BlobCache(work.File("fresh-cache")), new OciRootfs.Options(RootfsFormat.Directory, tampered, "unused")));
        Assert.Contains($"blob {layer} from initos/synthetic: its bytes have digest", refused.Message, StringComparison.Ordinal);
        Assert.False(Path.Exists(tampered));
    }

    /// <summary>An OCI layout's image into a registry as any OCI client pushes it: every blob, then the manifest under the tag.</summary>
    private static void Push(string layout, InitOs.Sidecar.Registry.RegistryClient client, string repository, string tag)
    {
        foreach (var blob in Directory.GetFiles(Path.Combine(layout, "blobs", "sha256")))
        {
            client.PushBlob(repository, "sha256:" + Path.GetFileName(blob), new FileInfo(blob).Length, () => File.OpenRead(blob));
        }
        using var index = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(layout, "index.json")));
        var descriptor = index.RootElement.GetProperty("manifests")[0];
        var digest = descriptor.GetProperty("digest").GetString()!;
        client.PushManifest(repository, tag, File.ReadAllBytes(Path.Combine(layout, "blobs", "sha256", digest[7..])), descriptor.GetProperty("mediaType").GetString()!);
    }

    private static string Built(string source, string output)
    {
        OciRootfs.Build(source, new OciRootfs.Options(RootfsFormat.Directory, output, "unused"));
        return output;
    }

    [Fact]
    public void A_flipped_bit_in_a_layer_or_a_lying_diff_id_is_refused_and_nothing_is_written()
    {
        using var work = new TempDirectory("initos-oci-");
        var image = SyntheticImage(work.Path);
        var layout = Path.Combine(work.Path, "layout");
        image.WriteLayout(layout, "v1");
        var blob = Directory.GetFiles(Path.Combine(layout, "blobs", "sha256")).OrderByDescending(f => new FileInfo(f).Length).First();
        var bytes = File.ReadAllBytes(blob);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(blob, bytes);
        var output = Path.Combine(work.Path, "out");
        var error = Assert.Throws<InvalidDataException>(() => OciRootfs.Build(layout, new OciRootfs.Options(RootfsFormat.Directory, output, "unused")));
        Assert.Contains($"blob sha256:{Path.GetFileName(blob)} has digest sha256:", error.Message, StringComparison.Ordinal);
        Assert.Contains("refused", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output) || Directory.Exists(output + ".partial"));

        var archive = Path.Combine(work.Path, "lying.tar");
        var diffIds = Enumerable.Range(0, 3).Select(i => i == 1 ? "sha256:" + new string('0', 64) : null).ToList();
        image.WriteDockerArchive(archive, "synthetic:v1", image.DiffIds.Select((d, i) => diffIds[i] ?? d).ToList());
        var image2 = Path.Combine(work.Path, "out.ext4");
        error = Assert.Throws<InvalidDataException>(() => OciRootfs.Build(archive, new OciRootfs.Options(RootfsFormat.Ext4, image2, "x")));
        Assert.Contains("layer 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("the config's diff ID is sha256:0000", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(image2) || File.Exists(image2 + ".tmp"));

        var missing = Assert.Throws<ArgumentException>(() => OciRootfs.Build(layout, new OciRootfs.Options(RootfsFormat.Directory, output, "unused", "v9")));
        Assert.Contains("no image tagged v9 in index.json; tags there: v1", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_debian_image_unpacks_as_umoci_unpacks_it()
    {
        var cached = DebianImage.Cached();
        using var work = new TempDirectory("initos-oci-debian-");
        var tree = Directory.CreateDirectory(work.File("debian")).FullName;
        var image = new OciTestImage(work.Path);
        Tool.Run("mount", "-o", "loop,ro", cached, tree);
        try
        {
            image.AddLayer(tree);
        }
        finally
        {
            Tool.Run("umount", tree);
        }
        // A second layer as an admin's Dockerfile makes one: documentation deleted, apt's
        // configuration replaced whole, a binary replaced by a script.
        var two = Stage(work.Path, "l2");
        Write(two, "usr/share/.wh.doc", "");
        Write(two, "etc/apt/.wh..wh..opq", "");
        Write(two, "etc/apt/sources.list", "deb http://deb.debian.org/debian bookworm main\n");
        Write(two, "usr/bin/ls", "#!/bin/sh\nexec /bin/busybox ls \"$@\"\n", mode: 0x1ED);
        image.AddLayer(two, ["./usr/share/.wh.doc", "./etc/apt/.wh..wh..opq", "./etc/apt", "./etc/apt/sources.list", "./usr/bin/ls"]);
        var layout = work.File("layout");
        image.WriteLayout(layout, "bookworm", compress: false);

        var ours = work.File("ours");
        var result = OciRootfs.Build(layout, new OciRootfs.Options(RootfsFormat.Directory, ours, "unused"));
        Tool.Run("umoci", "unpack", "--image", layout + ":bookworm", work.File("umoci"));
        var expected = TreeListing.Of(Path.Combine(work.Path, "umoci", "rootfs"));
        var differences = TreeListing.Differences(expected, TreeListing.Of(ours));
        Assert.True(differences.Count == 0, $"{differences.Count} of {expected.Count} entries differ from umoci's:\n{string.Join('\n', differences.Take(40))}");
        Assert.True(expected.Count > 5000, $"only {expected.Count} entries: not a Debian");
        Assert.False(Directory.Exists(Path.Combine(ours, "usr/share/doc")));
        Assert.Equal(["sources.list"], Directory.GetFileSystemEntries(Path.Combine(ours, "etc/apt")).Select(Path.GetFileName));
        Assert.True(File.Exists(Path.Combine(ours, "usr/lib/systemd/systemd")));
        Console.WriteLine($"debian from OCI: {result.Entries} entries, {result.TreeBytes / 1024 / 1024} MiB of tree, identical to umoci unpack ({expected.Count} entries compared)");
    }

    private static string SyntheticLayout(string work)
    {
        var layout = Path.Combine(work, "layout");
        SyntheticImage(work).WriteLayout(layout, "v1");
        return layout;
    }

    /// <summary>Three layers, staged as directories and tarred by GNU tar.</summary>
    internal static OciTestImage SyntheticImage(string work, bool throughSymlinks = true)
    {
        var image = new OciTestImage(work);
        var one = Stage(work, "l1");
        Write(one, "etc/hosts", "127.0.0.1 localhost\n", xattr: ("user.origin", "layer1"u8.ToArray()));
        Write(one, "data/keep/a", "a");
        Write(one, "data/keep/sub/b", "b1");
        Write(one, "data/gone/x", "x");
        Write(one, "opq/lower1", "lower");
        Write(one, "opq/sub/lower2", "lower");
        Write(one, "bin/tool", "tool", mode: 0x9ED, owner: (1000, 1000), xattr: ("security.capability", NetRawCapability));
        Tool.Run("ln", Path.Combine(one, "bin/tool"), Path.Combine(one, "bin/tool2"));
        Write(one, "usr/lib/libx.so", "x");
        File.CreateSymbolicLink(Path.Combine(one, "lib"), "usr/lib");
        File.CreateSymbolicLink(Path.Combine(one, "escape"), "/");
        File.CreateSymbolicLink(Path.Combine(one, "up"), "../../../../..");
        Directory.CreateDirectory(Path.Combine(one, "dev"));
        Directory.CreateDirectory(Path.Combine(one, "run"));
        Tool.Run("mknod", "-m", "666", Path.Combine(one, "dev/null"), "c", "1", "3");
        Tool.Run("mknod", "-m", "660", Path.Combine(one, "dev/loop9"), "b", "7", "9");
        Tool.Run("mkfifo", "-m", "600", Path.Combine(one, "run/fifo"));
        Write(one, "rep/file1", "file");
        Write(one, "rep/dir1/inner", "inner");
        Directory.CreateDirectory(Path.Combine(one, "tmp"));
        File.SetUnixFileMode(Path.Combine(one, "tmp"), (UnixFileMode)0x3FF);
        image.AddLayer(one);

        var two = Stage(work, "l2");
        Write(two, "data/.wh.gone", "");
        Write(two, "etc/.wh.hosts", "");
        Write(two, "data/keep/.wh.a", "");
        Write(two, "opq/.wh..wh..opq", "");
        Write(two, "opq/new1", "new");
        Write(two, "rep/file1/child", "child");
        Write(two, "rep/dir1", "now a file");
        Write(two, "etc/motd", "hello\n");
        File.SetUnixFileMode(Path.Combine(two, "etc"), (UnixFileMode)0x1E8);
        Write(two, "data/keep/sub/b", "b2", mode: 0x180, owner: (5, 6));
        image.AddLayer(two);

        var three = Stage(work, "l3");
        Write(three, "data/gone/y", "y");
        Write(three, "etc/hosts", "10.0.0.1 layer3\n");
        Tool.Run("ln", Path.Combine(three, "etc/hosts"), Path.Combine(three, "etc/hosts2"));
        Write(three, "lib/libz.so", "z");
        Write(three, "escape/etc/escaped", "inside");
        Write(three, "up/landed", "inside");
        Write(three, "newparent/child/file", "implicit parents");
        // Named without their parents: lib/ and escape/ stay the symlinks layer 1 made.
        string[] throughLinks = throughSymlinks ? ["./lib/libz.so", "./escape/etc/escaped", "./up/landed"] : [];
        image.AddLayer(three, ["./data", "./data/gone", "./data/gone/y", "./etc/hosts", "./etc/hosts2", .. throughLinks, "./newparent/child/file"]);
        return image;
    }

    private static string Stage(string work, string name)
    {
        var path = Directory.CreateDirectory(Path.Combine(work, name)).FullName;
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED);
        return path;
    }

    private static void Write(string root, string relative, string content, int mode = 0x1A4, (uint Uid, uint Gid)? owner = null, (string Name, byte[] Value)? xattr = null)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        if (owner is { } o)
        {
            Files.Chown(path, o.Uid, o.Gid);
        }
        File.SetUnixFileMode(path, (UnixFileMode)mode);
        if (xattr is { } x)
        {
            Xattrs.Set(path, x.Name, x.Value);
        }
    }

    private static long Inode(string path) => long.Parse(Tool.Run("stat", "-c", "%i", path).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The image's tree, read through a read-only loop mount (lost+found, which mkfs.ext4 adds, left out).</summary>
    private static SortedDictionary<string, string> Mounted(string image, string mountPoint)
    {
        Directory.CreateDirectory(mountPoint);
        Tool.Run("mount", "-o", "loop,ro", image, mountPoint);
        try
        {
            var listing = TreeListing.Of(mountPoint);
            foreach (var key in listing.Keys.Where(k => k == "lost+found").ToList())
            {
                listing.Remove(key);
            }
            return listing;
        }
        finally
        {
            Tool.Run("umount", mountPoint);
        }
    }
}

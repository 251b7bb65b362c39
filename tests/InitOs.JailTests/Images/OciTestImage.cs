using System.Security.Cryptography;
using System.Text.Json;
using InitOs.TestKit;

namespace InitOs.JailTests.Images;

/// <summary>
/// Container images for the tests, written by other tools than the one under test: each layer
/// is a tar GNU tar makes of a staged directory (pax headers, xattrs, numeric owners, the
/// entries listed, so a layer can name a child without its parent), gzip -n compresses it, and
/// this class writes the OCI layout's JSON around the blobs (or a `docker save` archive's).
/// </summary>
internal sealed class OciTestImage
{
    private readonly List<(string Tar, string DiffId)> _layers = [];
    private readonly string _work;

    public OciTestImage(string work) => _work = work;

    public IReadOnlyList<string> DiffIds => _layers.Select(l => l.DiffId).ToList();

    /// <summary>A layer of <paramref name="directory"/>'s entries (all of them, "." first, when <paramref name="entries"/> is null).</summary>
    public void AddLayer(string directory, IEnumerable<string>? entries = null)
    {
        var list = Path.Combine(_work, $"layer{_layers.Count + 1}.list");
        var names = entries?.ToList() ?? Tool.Run("find", directory, "-mindepth", "0", "-printf", "./%P\\n").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(p => p == "./" ? "." : p).Order(StringComparer.Ordinal).ToList();
        File.WriteAllLines(list, names);
        var tar = Path.Combine(_work, $"layer{_layers.Count + 1}.tar");
        Tool.Run("tar", "--format=pax", "--xattrs", "--xattrs-include=*", "--numeric-owner", "--no-recursion", "--pax-option=delete=atime,delete=ctime",
            "-C", directory, "-cf", tar, "-T", list);
        _layers.Add((tar, Digest(tar)));
    }

    /// <summary>An OCI image layout at <paramref name="layout"/>, the image tagged <paramref name="tag"/>; gzip'd layers unless <paramref name="compress"/> is false.</summary>
    public void WriteLayout(string layout, string tag, bool compress = true)
    {
        var blobs = Directory.CreateDirectory(Path.Combine(layout, "blobs", "sha256")).FullName;
        var layerDescriptors = new List<object>();
        foreach (var (tar, _) in _layers)
        {
            var blob = tar;
            if (compress)
            {
                Tool.Run("sh", "-c", $"gzip -n -c '{tar}' > '{tar}.gz'");
                blob = tar + ".gz";
            }
            var digest = Digest(blob);
            File.Copy(blob, Path.Combine(blobs, digest[7..]), overwrite: true);
            layerDescriptors.Add(new Dictionary<string, object>
            {
                ["mediaType"] = compress ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.oci.image.layer.v1.tar",
                ["digest"] = digest,
                ["size"] = new FileInfo(blob).Length,
            });
        }
        var config = Blob(blobs, Config());
        var manifest = Blob(blobs, JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = new Dictionary<string, object> { ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = config.Digest, ["size"] = config.Size },
            ["layers"] = layerDescriptors,
        }));
        File.WriteAllText(Path.Combine(layout, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        File.WriteAllBytes(Path.Combine(layout, "index.json"), JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["manifests"] = new[]
            {
                new Dictionary<string, object>
                {
                    ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
                    ["digest"] = manifest.Digest,
                    ["size"] = manifest.Size,
                    ["annotations"] = new Dictionary<string, string> { ["org.opencontainers.image.ref.name"] = tag },
                },
            },
        }));
    }

    /// <summary>A `docker save` archive (manifest.json, the config, uncompressed layer tars), tagged REPO:TAG; diff IDs from <paramref name="diffIds"/> when given (to lie).</summary>
    public void WriteDockerArchive(string archive, string repoTag, IReadOnlyList<string>? diffIds = null)
    {
        var staging = Directory.CreateDirectory(Path.Combine(_work, "docker-" + Path.GetFileNameWithoutExtension(archive))).FullName;
        var names = new List<string>();
        for (int i = 0; i < _layers.Count; i++)
        {
            var name = $"{_layers[i].DiffId[7..19]}/layer.tar";
            Directory.CreateDirectory(Path.Combine(staging, Path.GetDirectoryName(name)!));
            File.Copy(_layers[i].Tar, Path.Combine(staging, name), overwrite: true);
            names.Add(name);
        }
        File.WriteAllBytes(Path.Combine(staging, "config.json"), Config(diffIds));
        File.WriteAllBytes(Path.Combine(staging, "manifest.json"), JsonSerializer.SerializeToUtf8Bytes(new[]
        {
            new Dictionary<string, object> { ["Config"] = "config.json", ["RepoTags"] = new[] { repoTag }, ["Layers"] = names },
        }));
        Tool.Run("tar", "--format=ustar", "-C", staging, "-cf", archive, ".");
    }

    public static string Digest(string file)
    {
        using var stream = File.OpenRead(file);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private byte[] Config(IReadOnlyList<string>? diffIds = null) => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
    {
        ["architecture"] = "amd64",
        ["os"] = "linux",
        ["config"] = new Dictionary<string, object>(),
        ["rootfs"] = new Dictionary<string, object> { ["type"] = "layers", ["diff_ids"] = diffIds ?? _layers.Select(l => l.DiffId).ToList() },
    });

    private static (string Digest, long Size) Blob(string blobs, byte[] content)
    {
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
        File.WriteAllBytes(Path.Combine(blobs, digest[7..]), content);
        return (digest, content.Length);
    }
}

using InitOs.ImageBuild.Bundle;
using InitOs.Sidecar.Upgrades;
using InitOs.TestKit;

namespace InitOs.UnitTests.Sidecar;

/// <summary>
/// Signed upgrade bundles: written by `initos build bundle`'s writer with a key OpenSSH made,
/// read back by the sidecar's reader, by GNU tar and by `ssh-keygen -Y verify`; refused, with a
/// message naming why and nothing kept, for another key, another machine class, a version below
/// the floor, and a flipped bit anywhere in the file.
/// </summary>
public sealed class BundleTests : IDisposable
{
    private const string MachineClass = "qemu-test";
    private readonly TempDirectory _dir = new("initos-bundle-test-");

    public void Dispose() => _dir.Dispose();

    private string Key(string name)
    {
        var path = _dir.File(name);
        if (!File.Exists(path))
        {
            Tool.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path);
        }
        return path;
    }

    private string PublicLine(string key) => File.ReadAllText(key + ".pub").Trim();

    private string Artifact(string name, int size)
    {
        var path = _dir.File(name);
        if (!File.Exists(path))
        {
            var bytes = new byte[size];
            new Random(size).NextBytes(bytes);
            File.WriteAllBytes(path, bytes);
        }
        return path;
    }

    private string Build(string output, string key, string version = "2.0", string minVersion = "1.0", string compatible = MachineClass)
    {
        var uki = _dir.File($"uki-{version}/initos.efi");
        if (!File.Exists(uki))
        {
            InitOs.TestKit.TestUki.Write(uki, version);
        }
        var spec = new BundleSpec(version, compatible, minVersion, uki,
            [new("debian", Artifact("debian.erofs", 5000))], Key(key));
        return BundleWriter.Write(spec, _dir.File(output)).Output;
    }

    private TrustPolicy Policy(params string[] keys) => new([.. keys.Select(k => PublicLine(Key(k)))], MachineClass, "1.0");

    private static VerifiedBundle ReadTar(byte[] bundle, TrustPolicy policy, IArtifactSink? sink = null) =>
        BundleReader.Read(new TarBundleSource(new MemoryStream(bundle)), policy, sink ?? new RecordingSink());

    [Fact]
    public void A_built_bundle_verifies_here_with_gnu_tar_and_with_ssh_keygen_and_is_the_same_bytes_each_time()
    {
        var tar = Build("b.tar", "signer");
        var sink = new RecordingSink();
        var bundle = ReadTar(File.ReadAllBytes(tar), Policy("signer"), sink);
        Assert.Equal(new BundleDescription("2.0", MachineClass, "1.0"), bundle.Description);
        Assert.Equal(PublicLine(Key("signer")), bundle.Key);
        Assert.Equal([("uki", "initos.efi"), ("os-image", "debian")], bundle.Artifacts.Select(a => (a.Kind, a.Name)));
        Assert.Equal(File.ReadAllBytes(_dir.File("uki-2.0/initos.efi")), sink.Committed["initos.efi"]);
        Assert.Equal(File.ReadAllBytes(_dir.File("debian.erofs")), sink.Committed["debian"]);
        Assert.False(sink.Aborted);

        // An OCI image layout any tool reads: GNU tar unpacks it, and the directory reads the same.
        var listing = Tool.Run("tar", "-tf", tar).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["oci-layout", "index.json"], listing[..2]);
        Assert.All(listing[2..], name => Assert.Matches("^blobs/sha256/[0-9a-f]{64}$", name));
        var unpacked = Directory.CreateDirectory(_dir.File("unpacked")).FullName;
        Tool.Run("tar", "-xf", tar, "-C", unpacked);
        Assert.Equal(bundle.ManifestDigest, BundleReader.Read(new DirectoryBundleSource(unpacked), Policy("signer"), new RecordingSink()).ManifestDigest);
        var directory = Build("b.dir", "signer");
        Assert.Equal(bundle.ManifestDigest, BundleReader.Read(new DirectoryBundleSource(directory), Policy("signer"), new RecordingSink()).ManifestDigest);

        // OpenSSH checks the same signature over the same manifest.
        var signatureBlob = Directory.GetFiles(Path.Combine(unpacked, "blobs/sha256")).Single(f => File.ReadAllText(f).StartsWith("-----BEGIN SSH SIGNATURE-----", StringComparison.Ordinal));
        File.WriteAllText(_dir.File("allowed_signers"), $"signer@test namespaces=\"{BundleDocuments.SignatureNamespace}\" {PublicLine(Key("signer"))}\n");
        var verified = Tool.Exec("sh", ["-c", $"ssh-keygen -Y verify -f {_dir.File("allowed_signers")} -I signer@test -n {BundleDocuments.SignatureNamespace} -s {signatureBlob} < {Path.Combine(unpacked, "blobs/sha256", bundle.ManifestDigest[7..])}"]);
        Assert.True(verified.Code == 0, verified.ToString());

        Assert.Equal(File.ReadAllBytes(tar), File.ReadAllBytes(Build("again.tar", "signer")));
    }

    [Fact]
    public void Another_key_another_machine_class_and_a_version_below_the_floor_are_refused_by_name()
    {
        var bundle = File.ReadAllBytes(Build("b.tar", "signer"));
        Assert.Contains("not in the keyring", Refusal(bundle, Policy("stranger")), StringComparison.Ordinal);
        Assert.Contains("machine class \"qemu-test\", this machine is \"other\"", Refusal(bundle, Policy("signer") with { Compatible = "other" }), StringComparison.Ordinal);
        Assert.Contains("below this machine's minimum 2.1 (anti-rollback)", Refusal(bundle, Policy("signer") with { MinimumVersion = "2.1" }), StringComparison.Ordinal);
        // Rotation: a keyring with the old and the new key takes bundles from either.
        Assert.Equal("2.0", ReadTar(bundle, Policy("stranger", "signer")).Description.Version);
        Assert.Throws<ArgumentException>(() => Build("bad.tar", "signer", version: "2.0", minVersion: "2.1"));
        Assert.Throws<FormatException>(() => Build("bad.tar", "signer", version: "2.x"));
        // The UKI must be the release the bundle names: systemd-boot orders entries by it.
        var mislabelled = Assert.Throws<ArgumentException>(() => BundleWriter.Write(
            new BundleSpec("2.1", MachineClass, "1.0", _dir.File("uki-2.0/initos.efi"), [], Key("signer")), _dir.File("bad.tar")));
        Assert.Contains("is release 2.0 (IMAGE_VERSION of its .osrel, from [upgrade] version), not --version 2.1", mislabelled.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("bad.tar")));
    }

    [Fact]
    public void A_signature_made_for_another_purpose_is_refused()
    {
        var manifest = "{}"u8.ToArray();
        File.WriteAllBytes(_dir.File("message"), manifest);
        Tool.Run("ssh-keygen", "-q", "-Y", "sign", "-f", Key("signer"), "-n", "git", _dir.File("message"));
        var error = Assert.Throws<InitOs.Init.Trust.SignatureException>(() => InitOs.Init.Trust.SshSignature.Verify(
            File.ReadAllText(_dir.File("message.sig")), manifest, BundleDocuments.SignatureNamespace, [PublicLine(Key("signer"))], "sig"));
        Assert.Contains("namespace \"git\"", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Every byte of the bundle's headers, documents, signature, padding and end, and a byte in
    /// every 37 of each artifact, with one bit flipped: each is refused, and whatever the sink
    /// had begun or committed is dropped.
    /// </summary>
    [Fact]
    public void Every_flipped_bit_anywhere_in_the_bundle_is_refused_and_nothing_is_kept()
    {
        var bundle = File.ReadAllBytes(Build("b.tar", "signer"));
        var policy = Policy("signer");
        var regions = Regions(bundle);
        var refusedByRegion = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        string[] artifacts = [DataOf("uki-2.0/initos.efi"), DataOf("debian.erofs")];
        var chosen = regions.Where(r => !artifacts.Contains(r.Region) || r.Offset % 37 == 0).ToList();
        int flips = chosen.Count;
        // One at a time, leaving the other core to the tests beside it (each flip past the signature costs an Ed25519 check).
        Parallel.ForEach(chosen, new ParallelOptions { MaxDegreeOfParallelism = 1 }, r =>
        {
            var (offset, region) = r;
            var flipped = (byte[])bundle.Clone();
            flipped[offset] ^= (byte)(1 << (offset % 8));
            var sink = new RecordingSink();
            var error = Record.Exception(() => ReadTar(flipped, policy, sink));
            Assert.True(error is BundleException, $"a flipped bit at {offset} ({region}): {error?.ToString() ?? "accepted"}");
            Assert.True(sink.Aborted, $"a refusal at {offset} ({region}) did not drop what was begun");
            refusedByRegion.AddOrUpdate(region, 1, (_, n) => n + 1);
        });
        Assert.Equal(flips, refusedByRegion.Values.Sum());
        // Every region of the file was hit: each member's header and data, the padding, the end.
        Assert.Equal(regions.Select(r => r.Region).Distinct().Order(), refusedByRegion.Keys.Order());
        Console.WriteLine($"bundle bit flips: {flips} flipped, {refusedByRegion.Values.Sum()} refused, over {refusedByRegion.Count} regions");
    }

    private string DataOf(string file) => "data of blobs/sha256/" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(_dir.File(file))));

    /// <summary>Each byte of the tar with the part it belongs to: a member's header, its data, its padding, or the end.</summary>
    private static List<(int Offset, string Region)> Regions(byte[] tar)
    {
        var regions = new List<(int, string)>();
        int at = 0;
        while (tar.AsSpan(at, BundleTar.Block).IndexOfAnyExcept((byte)0) >= 0)
        {
            var (name, size) = BundleTar.ReadHeader(tar.AsSpan(at, BundleTar.Block))!.Value;
            regions.AddRange(Enumerable.Range(at, BundleTar.Block).Select(o => (o, "header of " + name)));
            at += BundleTar.Block;
            regions.AddRange(Enumerable.Range(at, (int)size).Select(o => (o, "data of " + name)));
            at += (int)size;
            regions.AddRange(Enumerable.Range(at, BundleTar.Padding(size)).Select(o => (o, "padding")));
            at += BundleTar.Padding(size);
        }
        regions.AddRange(Enumerable.Range(at, tar.Length - at).Select(o => (o, "end")));
        return regions;
    }

    private static string Refusal(byte[] bundle, TrustPolicy policy)
    {
        var sink = new RecordingSink();
        var error = Assert.Throws<BundleException>(() => ReadTar(bundle, policy, sink));
        Assert.True(sink.Aborted);
        return error.Message;
    }

    /// <summary>Keeps what is committed, and notes an abort.</summary>
    private sealed class RecordingSink : IArtifactSink
    {
        private readonly Dictionary<string, MemoryStream> _begun = [];

        public Dictionary<string, byte[]> Committed { get; } = [];

        public bool Aborted { get; private set; }

        public Stream Begin(BundleArtifact artifact) => _begun[artifact.Name] = new MemoryStream();

        public void Commit(BundleArtifact artifact) => Committed[artifact.Name] = _begun[artifact.Name].ToArray();

        public void Abort() => Aborted = true;
    }
}

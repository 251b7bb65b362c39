using System.Security.Cryptography;
using System.Text;
using InitOs.Sidecar.Upgrades;
using InitOs.Tools;

namespace InitOs.ImageBuild.Bundle;

/// <summary>What `initos build bundle` packs: a version, the machine class, the anti-rollback floor, a UKI and/or OS images, and the signing key.</summary>
/// <param name="Key">An OpenSSH ed25519 private key file; `ssh-keygen -Y sign` signs with it (an agent or a FIDO key works as ssh-keygen allows).</param>
public sealed record BundleSpec(string Version, string Compatible, string MinVersion, string? Uki, IReadOnlyList<KeyValuePair<string, string>> OsImages, string Key);

/// <summary>The bundle written: where, its manifest's digest, the signing key's public line, and its artifacts.</summary>
public sealed record BundleReport(string Output, string ManifestDigest, string PublicKey, IReadOnlyList<BundleArtifact> Artifacts, long Bytes);

/// <summary>
/// Writes a signed bundle as an OCI image layout: a directory, or (an output ending in .tar)
/// BundleTar's archive of it, in the order the sidecar reads and checks it. The manifest is
/// signed with OpenSSH's `ssh-keygen -Y sign` in the namespace "initos-bundle", so anyone can
/// check a bundle with `ssh-keygen -Y verify` too (docs/upgrades.md). Same inputs, same bytes.
/// </summary>
public static class BundleWriter
{
    public static BundleReport Write(BundleSpec spec, string output)
    {
        Check(spec);
        var publicKey = PublicKey(spec.Key);
        var artifacts = new List<(BundleArtifact Artifact, string File)>();
        if (spec.Uki is not null)
        {
            artifacts.Add((Artifact(BundleArtifact.Uki, BundleDocuments.UkiType, Path.GetFileName(spec.Uki), spec.Uki), spec.Uki));
        }
        artifacts.AddRange(spec.OsImages.Select(i => (Artifact(BundleArtifact.OsImage, BundleDocuments.OsImageType, i.Key, i.Value), i.Value)));
        if (artifacts.Select(a => a.Artifact.Blob.Digest).Distinct().Count() != artifacts.Count)
        {
            throw new ArgumentException("two artifacts of the bundle have the same bytes; give each once");
        }

        var description = BundleDocuments.Description(new BundleDescription(spec.Version, spec.Compatible, spec.MinVersion));
        var config = new Descriptor(BundleDocuments.DescriptionType, BundleDocuments.DigestOf(description), description.Length);
        var manifest = BundleDocuments.Manifest(config, [.. artifacts.Select(a => a.Artifact.Blob)], spec.Version);
        var manifestDescriptor = new Descriptor(BundleDocuments.ManifestType, BundleDocuments.DigestOf(manifest), manifest.Length);
        var signature = Sign(manifest, spec.Key);
        var signatureDescriptor = new Descriptor(BundleDocuments.SignatureType, BundleDocuments.DigestOf(signature), signature.Length);
        var signatureManifest = BundleDocuments.SignatureManifest(signatureDescriptor, manifestDescriptor);
        var signatureManifestDescriptor = new Descriptor(BundleDocuments.ManifestType, BundleDocuments.DigestOf(signatureManifest), signatureManifest.Length)
        {
            ArtifactType = BundleDocuments.SignatureArtifactType,
        };
        var index = BundleDocuments.Index(manifestDescriptor with { ArtifactType = BundleDocuments.BundleArtifactType, RefName = spec.Version }, signatureManifestDescriptor);

        // The reader's order: what is checked first comes first.
        var members = new List<(string Name, Func<Stream> Open, long Size)>
        {
            ("oci-layout", () => new MemoryStream(BundleDocuments.LayoutFile), BundleDocuments.LayoutFile.Length),
            ("index.json", () => new MemoryStream(index), index.Length),
        };
        void blob(byte[] bytes) => members.Add(("blobs/sha256/" + BundleDocuments.DigestOf(bytes)[7..], () => new MemoryStream(bytes), bytes.Length));
        blob(signatureManifest);
        blob(BundleDocuments.EmptyBlob);
        blob(signature);
        blob(manifest);
        blob(description);
        foreach (var (artifact, file) in artifacts)
        {
            members.Add(("blobs/sha256/" + artifact.Blob.Hex, () => File.OpenRead(file), artifact.Blob.Size));
        }
        long bytes = output.EndsWith(".tar", StringComparison.Ordinal) ? WriteTar(members, output) : WriteDirectory(members, output);
        return new BundleReport(output, manifestDescriptor.Digest, publicKey, [.. artifacts.Select(a => a.Artifact)], bytes);
    }

    /// <summary>
    /// The UKI must be the release the bundle says: systemd-boot orders entries by its .osrel
    /// IMAGE_VERSION, and the machine running it calls itself by the [upgrade] version inside it.
    /// </summary>
    private static void CheckUkiRelease(string uki, string version)
    {
        var release = InitOs.Efi.Uki.UkiRelease.ImageVersion(uki);
        if (release != version)
        {
            throw new ArgumentException($"--uki {uki} is release {release ?? "(none)"} (IMAGE_VERSION of its .osrel, from [upgrade] version), not --version {version}");
        }
    }

    private static void Check(BundleSpec spec)
    {
        var version = UpgradeVersion.Parse(spec.Version, "--version");
        if (UpgradeVersion.Parse(spec.MinVersion, "--min-version").CompareTo(version) > 0)
        {
            throw new ArgumentException($"--min-version {spec.MinVersion} is above --version {spec.Version}");
        }
        if (spec.Compatible.Length == 0 || spec.Compatible.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"--compatible \"{spec.Compatible}\": expected a machine class name without spaces");
        }
        if (spec.Uki is null && spec.OsImages.Count == 0)
        {
            throw new ArgumentException("a bundle needs --uki FILE or --os-image NAME=FILE (or both)");
        }
        foreach (var file in spec.OsImages.Select(i => i.Value).Prepend(spec.Uki).OfType<string>().Append(spec.Key))
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"{file}: no such file");
            }
        }
        if (spec.Uki is not null)
        {
            CheckUkiRelease(spec.Uki, spec.Version);
        }
        foreach (var name in spec.OsImages.Select(i => i.Key).Prepend(spec.Uki is null ? null : Path.GetFileName(spec.Uki)).OfType<string>())
        {
            if (!BundleReader.IsArtifactName(name))
            {
                throw new ArgumentException($"artifact name \"{name}\": expected letters, digits, '.', '_', '-', at most 64");
            }
        }
        if (spec.OsImages.Select(i => i.Key).Distinct(StringComparer.Ordinal).Count() != spec.OsImages.Count)
        {
            throw new ArgumentException("--os-image: a name given twice");
        }
    }

    private static BundleArtifact Artifact(string kind, string mediaType, string name, string file)
    {
        using var stream = File.OpenRead(file);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream));
        return new BundleArtifact(kind, name, new Descriptor(mediaType, digest, stream.Length) { Title = name });
    }

    /// <summary>The key's public line (ssh-keygen -y), which must be ssh-ed25519: the sidecar verifies Ed25519 only.</summary>
    private static string PublicKey(string key)
    {
        var line = ExternalTool.Run("ssh-keygen", ["-y", "-f", key]).Trim();
        if (!InitOs.Init.Trust.SshSignature.IsEd25519Key(line))
        {
            throw new ArgumentException($"--key {key}: a {line.Split(' ')[0]} key; bundles are signed with ssh-ed25519 keys (ssh-keygen -t ed25519)");
        }
        return line;
    }

    private static byte[] Sign(byte[] manifest, string key)
    {
        var directory = Directory.CreateTempSubdirectory("initos-bundle-sign-").FullName;
        try
        {
            var message = Path.Combine(directory, "manifest");
            File.WriteAllBytes(message, manifest);
            ExternalTool.Run("ssh-keygen", ["-q", "-Y", "sign", "-f", key, "-n", BundleDocuments.SignatureNamespace, message]);
            return Encoding.ASCII.GetBytes(File.ReadAllText(message + ".sig"));
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    private static long WriteTar(List<(string Name, Func<Stream> Open, long Size)> members, string output)
    {
        var temporary = output + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            foreach (var (name, open, size) in members)
            {
                using var data = open();
                BundleTar.WriteMember(stream, name, data, size);
            }
            BundleTar.WriteEnd(stream);
            stream.Flush(flushToDisk: true);
        }
        InitOs.Sys.AtomicFile.Replace(temporary, output);
        return new FileInfo(output).Length;
    }

    private static long WriteDirectory(List<(string Name, Func<Stream> Open, long Size)> members, string output)
    {
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any() || File.Exists(output))
        {
            throw new IOException($"{output}: exists; a bundle directory is written whole, into a new place");
        }
        var temporary = output.TrimEnd('/') + ".tmp";
        if (Directory.Exists(temporary))
        {
            Directory.Delete(temporary, true);
        }
        Directory.CreateDirectory(Path.Combine(temporary, "blobs", "sha256"));
        foreach (var (name, open, _) in members)
        {
            using var data = open();
            using var file = File.Create(Path.Combine(temporary, name));
            data.CopyTo(file);
        }
        if (Directory.Exists(output))
        {
            Directory.Delete(output);
        }
        Directory.Move(temporary, output);
        return members.Sum(m => m.Size);
    }
}

using System.Text.Json;
using InitOs.Init.Trust;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// The signed parts of a bundle (its manifest, the signature over it, and the description the
/// manifest names), kept on the data volume beside each OS image staged from it
/// (images/NAME@V.proof). The data volume is not signed, so whoever uses the image proves it
/// again: the signature with a key of the signed config, the description against the machine's
/// class and floor, then the image's bytes against the layer digest the manifest holds.
/// </summary>
public sealed record BundleProof(byte[] Manifest, string Signature, byte[] Description)
{
    /// <summary>A proof file is a few kilobytes; anything larger is not one.</summary>
    private const long MaxBytes = 256 * 1024;

    /// <summary>The signature over the manifest by a key of the keyring; the manifest's parts.</summary>
    public static (string Key, Descriptor Config, IReadOnlyList<Descriptor> Layers, string Version) CheckSignedManifest(byte[] manifest, string signature, TrustPolicy policy)
    {
        string key;
        try
        {
            key = SshSignature.Verify(signature, manifest, BundleDocuments.SignatureNamespace, policy.Keys, "the bundle's signature", policy.AnySigner);
        }
        catch (SignatureException e)
        {
            throw new BundleException(e.Message);
        }
        var (config, layers, version) = BundleDocuments.ReadManifest(manifest);
        return (key, config, layers, version);
    }

    /// <summary>The description (already checked against the manifest's digest of it): its version the manifest's, within the policy.</summary>
    public static BundleDescription CheckDescription(byte[] bytes, string manifestVersion, TrustPolicy policy)
    {
        var description = BundleDocuments.ReadDescription(bytes);
        if (description.Version != manifestVersion)
        {
            throw new BundleException($"the bundle description says version {description.Version}, its manifest {manifestVersion}");
        }
        BundleReader.CheckPolicy(description, policy);
        return description;
    }

    /// <summary>Everything the proof says, checked again: who signed, the description, the artifacts.</summary>
    public VerifiedBundle Verify(TrustPolicy policy)
    {
        var (key, config, layers, version) = CheckSignedManifest(Manifest, Signature, policy);
        if (BundleDocuments.DigestOf(Description) != config.Digest || Description.Length != config.Size)
        {
            throw new BundleException($"the bundle description: its bytes do not match the signed digest {config.Digest}");
        }
        var description = CheckDescription(Description, version, policy);
        return new VerifiedBundle(description, key, BundleDocuments.DigestOf(Manifest), BundleReader.Artifacts(layers)) { Proof = this };
    }

    public byte[] ToJson()
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteBase64String("manifest", Manifest);
            json.WriteString("signature", Signature);
            json.WriteBase64String("description", Description);
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>A proof file; what is wrong with it is named (it is on the unsigned data volume).</summary>
    public static BundleProof Read(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new BundleException($"{path}: no such file (the signed parts of the bundle the image came from)");
        }
        if (info.Length > MaxBytes)
        {
            throw new BundleException($"{path}: {info.Length} bytes, larger than a proof can be");
        }
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            return new BundleProof(
                root.GetProperty("manifest").GetBytesFromBase64(),
                root.GetProperty("signature").GetString() ?? throw new FormatException("signature is not a string"),
                root.GetProperty("description").GetBytesFromBase64());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new BundleException($"{path}: not a bundle proof ({e.Message})");
        }
    }
}

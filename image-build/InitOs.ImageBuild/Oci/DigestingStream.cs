using InitOs.Sys;

namespace InitOs.ImageBuild.Oci;

/// <summary>A read-only stream that hashes what passes through it: a layer's diff ID is checked as the layer is applied.</summary>
public sealed class DigestingStream(Stream inner) : InitOs.Sidecar.ReadOnlyStream
{
    private readonly IDigest _digest = Digests.Sha256();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        _digest.Append(buffer[..n]);
        return n;
    }

    /// <summary>Reads what is left (a tar's trailing blocks count) and returns "sha256:HEX".</summary>
    public string Finish()
    {
        CopyTo(Null);
        return "sha256:" + Convert.ToHexStringLower(_digest.Finish());
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _digest.Dispose();
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}

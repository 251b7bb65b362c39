namespace InitOs.Sys;

/// <summary>A running SHA-256: bytes in, the digest out once.</summary>
public interface IDigest : IDisposable
{
    /// <summary>Who computes it, for the logs ("the kernel's (AF_ALG)", "managed").</summary>
    string Engine { get; }

    void Append(ReadOnlySpan<byte> data);

    byte[] Finish();
}

/// <summary>
/// Where bulk SHA-256 comes from (bundle artifacts, OS images: megabytes to gigabytes): the
/// kernel's through AF_ALG when it has it (its SHA-NI and AVX2 drivers, several times faster
/// than managed code), else <see cref="Sha256"/>. The workstation's tool sets
/// <see cref="Provider"/> to .NET's (OpenSSL) instead; the initramfs carries no OpenSSL.
/// </summary>
public static class Digests
{
    /// <summary>Set once at start-up by a program that has a faster engine of its own.</summary>
    public static Func<IDigest>? Provider { get; set; }

    public static IDigest Sha256() => Provider?.Invoke() ?? (IDigest?)KernelSha256.TryOpen() ?? new ManagedDigest();

    /// <summary>The digest of a whole file, read in 1 MiB pieces.</summary>
    public static byte[] HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        using var digest = Sha256();
        var buffer = new byte[1 << 20];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            digest.Append(buffer.AsSpan(0, n));
        }
        return digest.Finish();
    }

    private sealed class ManagedDigest : IDigest
    {
        private readonly Sys.Sha256 _sha = new();

        public string Engine => "managed";

        public void Append(ReadOnlySpan<byte> data) => _sha.Append(data);

        public byte[] Finish() => _sha.Finish();

        public void Dispose()
        {
        }
    }
}

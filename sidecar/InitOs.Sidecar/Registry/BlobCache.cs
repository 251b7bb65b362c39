using InitOs.Sys;

namespace InitOs.Sidecar.Registry;

/// <summary>
/// Blobs by digest in a directory (sha256/HEX): a blob already there is not downloaded again.
/// A download goes to HEX.partial, resumed from its length when it broke off (here, or in an
/// earlier run), and becomes HEX only when its SHA-256 is the digest (fsync, rename, fsync the
/// directory). A cached blob is hashed again before it is used: the cache may sit on an
/// unsigned data volume, and a damaged one is dropped and fetched again.
/// </summary>
public sealed class BlobCache(string directory)
{
    private readonly string _directory = Path.Combine(directory, "sha256");

    /// <summary>Blobs served from the cache without a download.</summary>
    public int Hits { get; private set; }

    public string PathOf(string digest) => Path.Combine(_directory, digest[7..]);

    /// <summary>The blob's file, fetched through <paramref name="client"/> when it is not cached (or cached damaged).</summary>
    public string Fetch(RegistryClient client, string repository, string digest, long size)
    {
        if (!ImageReference.IsSha256(digest) || size < 0)
        {
            throw new RegistryException($"blob {digest} ({size} bytes): not a sha256 digest and size");
        }
        Directory.CreateDirectory(_directory);
        var path = PathOf(digest);
        if (File.Exists(path))
        {
            if (new FileInfo(path).Length == size && Hex(Digests.HashFile(path)) == digest)
            {
                Hits++;
                return path;
            }
            File.Delete(path);
        }
        var partial = path + ".partial";
        using (var file = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite))
        {
            if (file.Length > size)
            {
                file.SetLength(0);
            }
            client.DownloadBlob(repository, digest, size, file.Length, file);
            file.Flush(flushToDisk: true);
        }
        var actual = Hex(Digests.HashFile(partial));
        if (actual != digest)
        {
            File.Delete(partial);
            throw new RegistryException($"blob {digest} from {repository}: its bytes have digest {actual}: refused (nothing kept)");
        }
        File.Move(partial, path, overwrite: true);
        AtomicFile.SyncDirectory(_directory);
        return path;
    }

    private static string Hex(byte[] digest) => "sha256:" + Convert.ToHexStringLower(digest);
}

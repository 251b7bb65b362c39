using InitOs.Sidecar.Registry;
using InitOs.Sidecar.Upgrades;

namespace InitOs.ImageBuild.Bundle;

/// <summary>What a pull did: the bundle as verified, bytes fetched over the network, blobs the cache already had.</summary>
public sealed record PullReport(VerifiedBundle Bundle, long BytesFetched, int CacheHits);

/// <summary>
/// `initos pull REGISTRY/REPO:TAG --output FILE.tar|DIR`: the bundle read from the registry by
/// the same reader a machine uses (signature, keyring or any signer, every digest) and written
/// as it is read, member by member, in `initos build bundle`'s layout: pulling what was pushed
/// gives the same bytes. The output appears only when every check passed.
/// </summary>
public static class BundlePull
{
    public static PullReport Pull(ImageReference reference, RegistryClient client, BlobCache cache, TrustPolicy policy, string output, Action<string>? progress = null)
    {
        long before = client.BytesFetched;
        int hits = cache.Hits;
        var source = new RegistryBundleSource(client, reference, cache, policy.AnySigner ? null : policy.Keys);
        using var writer = BundleOutput.Create(output);
        var verified = BundleReader.Read(new TeeSource(source, writer), policy, new DiscardingSink(), progress);
        writer.Commit();
        return new PullReport(verified, client.BytesFetched - before, cache.Hits - hits);
    }

    /// <summary>Passes each member through to the reader and a copy of every byte it reads to the output.</summary>
    private sealed class TeeSource(IBundleSource inner, BundleOutput output) : IBundleSource
    {
        public Stream Open(string name, long? size, long largest)
        {
            var stream = inner.Open(name, size, largest);
            return new TeeStream(stream, output.Begin(name, stream.Length));
        }

        public void Close()
        {
            output.End();
            inner.Close();
        }

        public void End() => inner.End();
    }

    private sealed class TeeStream(Stream inner, Stream copy) : InitOs.Sidecar.ReadOnlyStream
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = inner.Read(buffer, offset, count);
            copy.Write(buffer, offset, n);
            return n;
        }

        public override long Length => inner.Length;
    }

    private sealed class DiscardingSink : IArtifactSink
    {
        public Stream Begin(BundleArtifact artifact) => Stream.Null;

        public void Commit(BundleArtifact artifact)
        {
        }

        public void Abort()
        {
        }
    }
}

/// <summary>A bundle being written member by member: BundleTar's archive (FILE.tar) or a layout directory, made beside its place and moved there on <see cref="Commit"/>.</summary>
internal sealed class BundleOutput : IDisposable
{
    private readonly string _output;
    private readonly string _temporary;
    private readonly bool _tar;
    private FileStream? _archive;
    private Stream? _member;
    private long _memberSize;
    private bool _committed;

    private BundleOutput(string output, bool tar)
    {
        _output = output;
        _tar = tar;
        _temporary = output.TrimEnd('/') + ".partial";
        if (File.Exists(output) || Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
        {
            throw new IOException($"{output}: exists; a pulled bundle is written into a new place");
        }
        if (tar)
        {
            _archive = new FileStream(_temporary, FileMode.Create, FileAccess.Write);
        }
        else
        {
            if (Directory.Exists(_temporary))
            {
                Directory.Delete(_temporary, true);
            }
            Directory.CreateDirectory(Path.Combine(_temporary, "blobs", "sha256"));
        }
    }

    public static BundleOutput Create(string output) => new(output, output.EndsWith(".tar", StringComparison.Ordinal));

    public Stream Begin(string name, long size)
    {
        _memberSize = size;
        if (_tar)
        {
            _archive!.Write(BundleTar.Header(name, size));
            _member = _archive;
            return new NonClosing(_archive);
        }
        _member = File.Create(Path.Combine(_temporary, name));
        return _member;
    }

    public void End()
    {
        if (_tar)
        {
            _archive!.Write(new byte[BundleTar.Padding(_memberSize)]);
        }
        else
        {
            _member?.Dispose();
        }
        _member = null;
    }

    public void Commit()
    {
        if (_tar)
        {
            BundleTar.WriteEnd(_archive!);
            _archive!.Flush(flushToDisk: true);
            _archive.Dispose();
            _archive = null;
            InitOs.Sys.AtomicFile.Replace(_temporary, _output);
        }
        else
        {
            if (Directory.Exists(_output))
            {
                Directory.Delete(_output);
            }
            Directory.Move(_temporary, _output);
        }
        _committed = true;
    }

    public void Dispose()
    {
        _archive?.Dispose();
        _member?.Dispose();
        if (!_committed)
        {
            if (File.Exists(_temporary))
            {
                File.Delete(_temporary);
            }
            else if (Directory.Exists(_temporary))
            {
                Directory.Delete(_temporary, true);
            }
        }
    }

    private sealed class NonClosing(Stream inner) : Stream
    {
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

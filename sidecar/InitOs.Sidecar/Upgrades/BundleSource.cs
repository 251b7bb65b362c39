namespace InitOs.Sidecar.Upgrades;

/// <summary>Where a bundle's files come from, one at a time, in the order the reader checks them.</summary>
public interface IBundleSource
{
    /// <summary>The member <paramref name="name"/>, which must come next and hold <paramref name="size"/> bytes (or, when null, at most <paramref name="largest"/>).</summary>
    Stream Open(string name, long? size, long largest);

    /// <summary>After the member's bytes were read: what follows it must be as written (the tar's zero padding).</summary>
    void Close();

    /// <summary>After the last member: nothing else may follow.</summary>
    void End();
}

/// <summary>A bundle file or stream (BundleTar's archive), read front to back once: ssh's stdin works.</summary>
public sealed class TarBundleSource(Stream input) : IBundleSource
{
    private readonly Stream _input = input;
    private long _left;
    private int _padding;
    private int _members;

    public Stream Open(string name, long? size, long largest)
    {
        var header = new byte[BundleTar.Block];
        ReadExactly(header, $"the header of {name}");
        _members++;
        var read = BundleTar.ReadHeader(header)
            ?? throw new BundleException($"the bundle file: tar header {_members} (where {name} belongs) is damaged or not as `initos build bundle` writes it");
        if (read.Name != name)
        {
            throw new BundleException($"the bundle file: member {_members} is {read.Name}, expected {name}");
        }
        if (size is { } exact ? read.Size != exact : read.Size > largest)
        {
            throw new BundleException($"the bundle file: {name} is {read.Size} bytes, expected {(size is null ? $"at most {largest}" : size)}");
        }
        _left = read.Size;
        _padding = BundleTar.Padding(read.Size);
        return new MemberStream(this);
    }

    public void Close()
    {
        if (_left != 0)
        {
            throw new InvalidOperationException("a bundle member was closed before its end");
        }
        var padding = new byte[_padding];
        ReadExactly(padding, "the padding after a member");
        if (padding.Any(b => b != 0))
        {
            throw new BundleException("the bundle file: the padding after a member is not zeros");
        }
    }

    public void End()
    {
        var end = new byte[2 * BundleTar.Block];
        ReadExactly(end, "the end of the archive");
        if (end.Any(b => b != 0))
        {
            throw new BundleException("the bundle file: more members, or damage, after the last artifact (expected the two zero blocks that end it)");
        }
        if (_input.Read(new byte[1]) != 0)
        {
            throw new BundleException("the bundle file: bytes after the end of the archive");
        }
    }

    private void ReadExactly(Span<byte> buffer, string what)
    {
        try
        {
            _input.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw new BundleException($"the bundle file ends early, in {what}");
        }
    }

    /// <summary>The current member's bytes, and not one more.</summary>
    private sealed class MemberStream(TarBundleSource source) : ReadOnlyStream
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (source._left == 0)
            {
                return 0;
            }
            int n = source._input.Read(buffer, offset, (int)Math.Min(count, source._left));
            if (n == 0)
            {
                throw new BundleException("the bundle file ends early, inside a member");
            }
            source._left -= n;
            return n;
        }

    }
}

/// <summary>A bundle as an OCI layout directory: its files by name, regular files only (a symlink could point anywhere).</summary>
public sealed class DirectoryBundleSource(string directory) : IBundleSource
{
    /// <summary>The file, for the caller to read and dispose.</summary>
    public Stream Open(string name, long? size, long largest)
    {
        var path = Path.Combine(directory, name);
        var info = new FileInfo(path);
        if (!info.Exists || info.LinkTarget is not null)
        {
            throw new BundleException($"{path}: {(info.LinkTarget is not null ? "a symlink" : "missing")} (expected the bundle's {name})");
        }
        if (size is { } exact ? info.Length != exact : info.Length > largest)
        {
            throw new BundleException($"{path} is {info.Length} bytes, expected {(size is null ? $"at most {largest}" : size)}");
        }
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    public void Close()
    {
    }

    public void End()
    {
    }
}

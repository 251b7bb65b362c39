namespace InitOs.Init.Tpm;

/// <summary>TPM 2.0 marshalling out: big-endian integers and size-prefixed (TPM2B) buffers.</summary>
public sealed class TpmWriter
{
    private readonly List<byte> _bytes = [];

    public int Length => _bytes.Count;

    public TpmWriter U8(byte value)
    {
        _bytes.Add(value);
        return this;
    }

    public TpmWriter U16(ushort value) => Raw([(byte)(value >> 8), (byte)value]);

    public TpmWriter U32(uint value) => Raw([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);

    public TpmWriter Raw(ReadOnlySpan<byte> bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    /// <summary>A TPM2B: a 16-bit size, then the bytes.</summary>
    public TpmWriter Sized(ReadOnlySpan<byte> bytes) => U16(checked((ushort)bytes.Length)).Raw(bytes);

    /// <summary>A TPM2B around whatever <paramref name="body"/> writes (TPM2B_PUBLIC, TPM2B_SENSITIVE_CREATE).</summary>
    public TpmWriter Sized(Action<TpmWriter> body)
    {
        var inner = new TpmWriter();
        body(inner);
        return Sized(inner.ToArray());
    }

    public byte[] ToArray() => _bytes.ToArray();
}

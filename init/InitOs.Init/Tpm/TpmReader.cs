namespace InitOs.Init.Tpm;

/// <summary>TPM 2.0 marshalling in; a response shorter than it says is a <see cref="TpmException"/>.</summary>
public sealed class TpmReader(byte[] bytes, int offset = 0)
{
    public int Offset { get; private set; } = offset;

    public int Remaining => bytes.Length - Offset;

    public byte U8() => Take(1)[0];

    public ushort U16()
    {
        var b = Take(2);
        return (ushort)((b[0] << 8) | b[1]);
    }

    public uint U32()
    {
        var b = Take(4);
        return ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];
    }

    public byte[] Sized() => Take(U16()).ToArray();

    public ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw new TpmException($"the TPM's answer is cut short: {count} bytes wanted at offset {Offset}, {Remaining} left");
        }
        var span = bytes.AsSpan(Offset, count);
        Offset += count;
        return span;
    }
}

namespace InitOs.Init.Tpm;

/// <summary>A set of PCRs of the SHA-256 bank, as TPML_PCR_SELECTION marshals it (one bitmap of 3 bytes: PCRs 0–23).</summary>
public sealed class PcrSelection
{
    private const int SelectBytes = 3;

    public PcrSelection(IEnumerable<int> indexes)
    {
        Indexes = [.. indexes.Distinct().Order()];
        foreach (var bad in Indexes.Where(i => i is < 0 or >= SelectBytes * 8))
        {
            throw new ArgumentException($"PCR {bad} is not one of 0–23", nameof(indexes));
        }
    }

    /// <summary>In ascending order: the order PolicyPCR hashes their values in.</summary>
    public IReadOnlyList<int> Indexes { get; }

    public byte[] Marshal()
    {
        var bitmap = new byte[SelectBytes];
        foreach (var i in Indexes)
        {
            bitmap[i / 8] |= (byte)(1 << (i % 8));
        }
        return new TpmWriter().U32(1).U16(TpmConstants.AlgSha256).U8(SelectBytes).Raw(bitmap).ToArray();
    }

    public static PcrSelection Read(TpmReader reader)
    {
        uint banks = reader.U32();
        var indexes = new List<int>();
        for (int bank = 0; bank < banks; bank++)
        {
            ushort hash = reader.U16();
            var bitmap = reader.Take(reader.U8());
            for (int i = 0; i < bitmap.Length * 8; i++)
            {
                if (hash == TpmConstants.AlgSha256 && (bitmap[i / 8] & (1 << (i % 8))) != 0)
                {
                    indexes.Add(i);
                }
            }
        }
        return new PcrSelection(indexes);
    }

    public override string ToString() => Indexes.Count == 0 ? "none" : "sha256:" + string.Join(',', Indexes);
}

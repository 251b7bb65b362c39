namespace InitOs.Jails.Vm.Kvm;

/// <summary>The probe guest: kvm-probe.s, assembled at build time; its two pieces are embedded in this assembly.</summary>
public static class ProbeFirmware
{
    /// <summary>What the probe writes to COM1 once it runs 64-bit code.</summary>
    public const string Marker = "INITOS-KVM-PROBE-OK";

    private static readonly Lazy<byte[]> Image = new(Load);

    public static ReadOnlySpan<byte> Bytes => Image.Value;

    /// <summary>The image QEMU maps below 1 MiB (0xF0000) and below 4 GiB; the CPU starts 16 bytes before its end.</summary>
    public const int Size = 0x10000;

    private const int ResetVector = 0xFFF0;

    /// <summary>The code at the image's start, the reset vector's jump at its end, zeros between.</summary>
    private static byte[] Load()
    {
        var image = new byte[Size];
        var code = Resource("kvm-probe.code");
        var reset = Resource("kvm-probe.reset");
        if (code.Length > ResetVector || reset.Length > Size - ResetVector)
        {
            throw new InvalidOperationException($"the KVM probe does not fit its image ({code.Length} bytes of code, {reset.Length} at the reset vector)");
        }
        code.CopyTo(image, 0);
        reset.CopyTo(image, ResetVector);
        return image;
    }

    private static byte[] Resource(string name)
    {
        using var stream = typeof(ProbeFirmware).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is not embedded in InitOs.Jails (the build assembles kvm-probe.s)");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}

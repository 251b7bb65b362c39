namespace InitOs.Sys;

/// <summary>Permission bits under their octal names (C# has no octal literals).</summary>
public static class Permissions
{
    public const int Octal0555 = 0x16D;
    public const int Octal0600 = 0x180;
    public const int Octal0644 = 0x1A4;
    public const int Octal0700 = 0x1C0;
    public const int Octal0666 = 0x1B6;
    public const int Octal0755 = 0x1ED;
    /// <summary>The permission bits of a st_mode, without the file type.</summary>
    public const uint Mask = 0xFFF;
}

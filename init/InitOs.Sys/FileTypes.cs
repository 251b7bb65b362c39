namespace InitOs.Sys;

/// <summary>The file-type bits of st_mode (S_IFMT and its values), as mknod(2) takes them.</summary>
public static class FileTypes
{
    public const uint Mask = 0xF000;
    public const uint Fifo = 0x1000;
    public const uint CharDevice = 0x2000;
    public const uint Directory = 0x4000;
    public const uint BlockDevice = 0x6000;
    public const uint Regular = 0x8000;
    public const uint Symlink = 0xA000;
}

namespace InitOs.Sys;

/// <summary>open(2) flags (asm-generic/fcntl.h, x86-64 values).</summary>
[Flags]
public enum OpenFlags
{
    ReadOnly = 0,
    WriteOnly = 1,
    ReadWrite = 2,
    Create = 0x40,
    Exclusive = 0x80,
    NoCtty = 0x100,
    Truncate = 0x200,
    Append = 0x400,
    NonBlocking = 0x800,
    Directory = 0x10000,
    NoFollow = 0x20000,
    CloseOnExec = 0x80000,
    /// <summary>O_PATH: a handle on a place in the tree, for *at calls and mount targets; no I/O.</summary>
    PathOnly = 0x200000,
}

namespace InitOs.Init.Recovery;

/// <summary>Whether the emergency shell opens, asks for the recovery password, or is not offered.</summary>
public enum ShellAccess
{
    /// <summary>No Secure Boot: anyone at the console could change the kernel command line anyway.</summary>
    Open,
    /// <summary>Secure Boot, and the signed config holds a password hash: the shell is the password's.</summary>
    Password,
    /// <summary>Secure Boot and no password: a root shell would undo the signed chain, so none.</summary>
    Refused,
}

/// <summary>
/// The rule sulogin follows, tied to how the machine booted: with the whole chain signed
/// (Secure Boot, so the kernel is locked down), a console shell must not be free, or anyone
/// with a keyboard, or a disk whose label makes the boot fail, gets root on a signed machine.
/// </summary>
public static class ShellGuard
{
    public static ShellAccess Decide(bool secureBoot, string? passwordHash) =>
        !secureBoot ? ShellAccess.Open : passwordHash is null ? ShellAccess.Refused : ShellAccess.Password;
}

using InitOs.Init.Config;

namespace InitOs.Sidecar.Admin;

/// <summary>Which role a command needs: looking is a viewer's, changing the machine's state an operator's, entering a jail an admin's.</summary>
public static class AdminRoles
{
    public static AdminRole Needed(string[] words) => words switch
    {
        ["services", "restart" or "kill", ..] => AdminRole.Operator,
        ["reboot" or "poweroff", ..] => AdminRole.Operator,
        ["jail", ..] or ["upgrade", ..] => AdminRole.Admin,
        ["disk", "enroll-tpm" or "recovery-key", ..] => AdminRole.Admin,
        _ => AdminRole.Viewer,
    };

    public static string Name(AdminRole role) => role.ToString().ToLowerInvariant();
}

using InitOs.Init.Config;

namespace InitOs.Sidecar.Admin;

/// <summary>
/// Who is asking: the role and key fingerprint sshd's forced command names (from root's
/// authorized_keys, written from the signed config), and the client's address. Without
/// them (root at the machine runs `initos admin`) the session is root's own: every role, no key.
/// </summary>
public sealed record AdminSession(AdminRole Role, string? Key, string? Peer)
{
    /// <summary>"--role ROLE --key SHA256:…" in front of the words (or nothing); what is left over is the words.</summary>
    public static (AdminSession Session, string[] Words) Parse(string[] args)
    {
        var peer = PeerOf(Environment.GetEnvironmentVariable("SSH_CLIENT"));
        if (args is ["--role", var role, "--key", var key, .. var rest])
        {
            if (!ConfigNames.AdminRoles.TryGetValue(role, out var parsed) || !IsFingerprint(key))
            {
                throw new ArgumentException($"--role {role} --key {key}: not a role and a key fingerprint");
            }
            return (new AdminSession(parsed, key, peer), rest);
        }
        return (new AdminSession(AdminRole.Admin, null, peer), args);
    }

    public string Describe() => $"key {Key ?? "(none: local)"} ({Role.ToString().ToLowerInvariant()}) from {Peer ?? "the machine"}";

    private static bool IsFingerprint(string key) =>
        key.StartsWith("SHA256:", StringComparison.Ordinal) && key.Length <= 60 && key[7..].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/');

    // SSH_CLIENT is "ADDRESS PORT LOCALPORT", set by sshd; only an address is kept, an IPv4 one
    // as such (the door's dual-stack socket shows it as ::ffff:a.b.c.d).
    private static string? PeerOf(string? sshClient) =>
        System.Net.IPAddress.TryParse(sshClient?.Split(' ').FirstOrDefault(), out var address)
            ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString()
            : null;
}

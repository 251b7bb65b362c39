namespace InitOs.Jails.Oci;

/// <summary>
/// `initos jail spec`: a config.json to start from, as `runc spec` writes one: a shell in
/// ./rootfs (read-only) with the default capabilities, new namespaces (a user namespace with
/// --rootless), the usual API mounts, masked and read-only /proc paths. Unlike runc's it asks
/// for no terminal: `create` needs --console-socket for one, and `run` works as written.
/// </summary>
public static class SpecTemplate
{
    /// <param name="rootless">The caller's (uid, gid), mapped to root in a user namespace; null: no user namespace.</param>
    public static string Json((uint Uid, uint Gid)? rootless)
    {
        var user = rootless is null ? "" : """{ "type": "user" }, """;
        var maps = rootless is { } ids
            ? $$"""
                    "uidMappings": [ { "containerID": 0, "hostID": {{ids.Uid}}, "size": 1 } ],
                    "gidMappings": [ { "containerID": 0, "hostID": {{ids.Gid}}, "size": 1 } ],

              """
            : "";
        return $$"""
            {
              "ociVersion": "1.0.2",
              "process": {
                "terminal": false,
                "user": { "uid": 0, "gid": 0 },
                "args": [ "sh" ],
                "env": [ "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm" ],
                "cwd": "/",
                "capabilities": {
                  "bounding": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
                  "effective": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
                  "permitted": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
                },
                "rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
                "noNewPrivileges": true
              },
              "root": { "path": "rootfs", "readonly": true },
              "hostname": "initos",
              "mounts": [
                { "destination": "/proc", "type": "proc", "source": "proc" },
                { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
                { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620" ] },
                { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
                { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": [ "nosuid", "noexec", "nodev" ] },
                { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [ "nosuid", "noexec", "nodev", "ro" ] }
              ],
              "linux": {
            {{maps}}    "namespaces": [ {{user}}{ "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "cgroup" } ],
                "maskedPaths": [ "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi" ],
                "readonlyPaths": [ "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" ]
              }
            }

            """;
    }
}

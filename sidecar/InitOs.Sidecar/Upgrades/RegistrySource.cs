using InitOs.Init.Config;
using InitOs.Sidecar.Registry;

namespace InitOs.Sidecar.Upgrades;

/// <summary>
/// `upgrade apply --from`: the reference (whole, or a tag of the signed config's [upgrade]
/// registry), the client with the signed config's transport rules, and where blobs are cached
/// (the data volume's cache/blobs when there is one, so a second version fetches only what
/// changed; else /run). The registry is not trusted for anything: the bundle it serves is
/// read and proven by the same reader as one on stdin.
/// </summary>
public static class RegistrySource
{
    public const string RunCache = "/run/initos/registry-blobs";

    public static ImageReference Reference(UpgradeConfig config, string from)
    {
        if (from.Contains('/', StringComparison.Ordinal))
        {
            return ImageReference.Parse(from);
        }
        var repository = config.Registry ?? throw new RegistryException($"--from {from}: a tag alone needs [upgrade] registry in the signed config; else give REGISTRY/REPO:TAG");
        return ImageReference.Parse(from.StartsWith("sha256:", StringComparison.Ordinal) ? $"{repository}@{from}" : $"{repository}:{from}");
    }

    /// <summary>HTTPS trusted through the signed config's registry_ca or registry_pin, unless it names the host in registry_plain_http (a test registry).</summary>
    public static RegistryClient Client(UpgradeConfig config, ImageReference reference)
    {
        var options = new RegistryOptions { PlainHttpHosts = config.RegistryPlainHttp, CaPem = config.RegistryCa, PinnedSha256 = config.RegistryPin };
        return new RegistryClient(reference.Registry, options, new MachineHttpTransport(options, TimeSpan.FromSeconds(30)));
    }

    public static string CacheDirectory()
    {
        var data = DataConfig.MountPoint;
        return Directory.Exists(Path.Combine(data, "state")) ? Path.Combine(data, "cache", "blobs") : RunCache;
    }
}

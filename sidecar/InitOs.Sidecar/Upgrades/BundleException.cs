namespace InitOs.Sidecar.Upgrades;

/// <summary>A bundle refused: the message says what was wrong (which part, which check) before anything was kept.</summary>
public sealed class BundleException(string message) : Exception(message);

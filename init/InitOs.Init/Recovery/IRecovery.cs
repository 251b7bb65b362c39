using InitOs.Init.Config;

namespace InitOs.Init.Recovery;

/// <summary>What PID 1 does when it cannot go on: the failure policy made concrete.</summary>
public interface IRecovery
{
    /// <summary>
    /// Applies <paramref name="policy"/> for <paramref name="reason"/>. Returns only after an
    /// emergency shell ended (the caller then retries); reboot and poweroff do not return.
    /// </summary>
    void Fail(FailurePolicy policy, string reason);

    /// <summary>An emergency shell asked for on the command line (initos.break=); returns when it exits.</summary>
    void Break(string reason);
}

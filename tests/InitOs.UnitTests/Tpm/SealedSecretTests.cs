using InitOs.ImageBuild.Qemu;
using InitOs.ImageBuild.Tpm;
using InitOs.Init.Tpm;
using InitOs.TestKit;
using Xunit;

namespace InitOs.UnitTests.Tpm;

/// <summary>
/// The TPM client against a real TPM 2.0 implementation (swtpm's libtpms) over its command
/// socket: a salted session, a secret sealed to PCR values and unsealed only while the PCRs hold them.
/// </summary>
public sealed class SealedSecretTests : IDisposable
{
    private static readonly PcrSelection Pcrs = new([7, 11]);
    private readonly TempDirectory _state = new("initos-tpm-test-");
    private readonly SoftwareTpm _swtpm;
    private readonly Interposer _bus;
    private readonly Tpm2 _tpm;

    // swtpm's command socket takes one connection at a time: every command goes through this one.
    public SealedSecretTests()
    {
        _swtpm = new SoftwareTpm(_state.Path, server: true);
        _bus = new Interposer(new TpmSocket(_swtpm.DataSocket!));
        _tpm = new Tpm2(_bus);
    }

    [Fact]
    public void A_secret_sealed_to_the_pcrs_values_now_unseals_and_the_tpm_agrees_with_the_computed_policy()
    {
        var secret = "a disk key of 32 random bytes..."u8.ToArray();
        var policy = new PcrPolicy(Pcrs, _tpm.PcrRead(Pcrs));

        var blob = SealedSecret.Seal(_tpm, secret, policy);

        Assert.Equal(secret, SealedSecret.Unseal(_tpm, blob, Pcrs));
        var primary = _tpm.CreateStoragePrimary();
        var session = _tpm.StartSaltedSession(primary, policy: true);
        _tpm.PolicyPcr(session, Pcrs);
        Assert.Equal(Convert.ToHexString(policy.Digest()), Convert.ToHexString(_tpm.PolicyGetDigest(session)));
    }

    [Fact]
    public void A_secret_sealed_to_predicted_values_unseals_once_the_pcr_reaches_them_and_not_after()
    {
        var now = _tpm.PcrRead(Pcrs);
        var measurement = Init.Tpm.TpmHmac.Sha256([], "a UKI's section"u8.ToArray());
        var predicted = new Dictionary<int, byte[]>(now) { [11] = Extend(now[11], measurement) };
        var blob = SealedSecret.Seal(_tpm, [1, 2, 3], new PcrPolicy(Pcrs, predicted));

        var before = Assert.Throws<TpmException>(() => SealedSecret.Unseal(_tpm, blob, Pcrs));
        Assert.True(before.IsPolicyFailure, before.Message);
        _tpm.PcrExtend(11, measurement);
        Assert.Equal([1, 2, 3], SealedSecret.Unseal(_tpm, blob, Pcrs));
        _tpm.PcrExtend(11, measurement);
        var after = Assert.Throws<TpmException>(() => SealedSecret.Unseal(_tpm, blob, Pcrs));
        Assert.Contains("TPM_RC_POLICY_FAIL", after.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_blob_from_another_tpm_does_not_load()
    {
        var blob = SealedSecret.Seal(_tpm, [9], new PcrPolicy(Pcrs, _tpm.PcrRead(Pcrs)));
        using var otherState = new TempDirectory("initos-tpm-other-");
        using var other = new SoftwareTpm(otherState.Path, server: true);
        using var otherTpm = new Tpm2(new TpmSocket(other.DataSocket!));

        var e = Assert.Throws<TpmException>(() => SealedSecret.Unseal(otherTpm, blob, Pcrs));

        Assert.Contains("TPM2_Load failed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unseal_answer_changed_on_the_way_is_refused_by_the_session_hmac_and_the_key_never_crosses_in_clear()
    {
        var secret = "sealed disk key"u8.ToArray();
        var blob = SealedSecret.Seal(_tpm, secret, new PcrPolicy(Pcrs, _tpm.PcrRead(Pcrs)));
        _bus.FlipInUnseal = true;
        var e = Assert.Throws<TpmException>(() => SealedSecret.Unseal(_tpm, blob, Pcrs));
        Assert.Contains("does not carry the session's HMAC", e.Message, StringComparison.Ordinal);
        _bus.FlipInUnseal = false;
        Assert.Equal(secret, SealedSecret.Unseal(_tpm, blob, Pcrs));
        Assert.DoesNotContain(_bus.Seen, bytes => Convert.ToHexString(bytes).Contains(Convert.ToHexString(secret), StringComparison.Ordinal));
    }

    /// <summary>A device on the bus: records every answer and may flip a bit in the unsealed data.</summary>
    private sealed class Interposer(ITpmTransport inner) : ITpmTransport
    {
        public string Name => inner.Name;

        public bool FlipInUnseal { get; set; }

        public List<byte[]> Seen { get; } = [];

        public byte[] Execute(byte[] command)
        {
            var response = inner.Execute(command);
            bool unseal = command.Length >= 10 && command[6] == 0 && command[7] == 0 && command[8] == 0x01 && command[9] == 0x5E;
            if (unseal && FlipInUnseal && response.Length > 20)
            {
                response[16] ^= 1;   // past the header and parameterSize: inside the sealed data
            }
            Seen.Add(response);
            return response;
        }

        public void Dispose() => inner.Dispose();
    }

    private static byte[] Extend(byte[] pcr, byte[] digest) => System.Security.Cryptography.SHA256.HashData([.. pcr, .. digest]);

    public void Dispose()
    {
        _tpm.Dispose();
        _swtpm.Dispose();
        _state.Dispose();
    }
}

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
    public void Of_a_volumes_tokens_the_one_sealed_to_this_boots_pcrs_unseals_and_one_for_other_values_is_not_tried()
    {
        var now = _tpm.PcrRead(Pcrs);
        var other = new PcrPolicy(Pcrs, new Dictionary<int, byte[]>(now) { [11] = Enumerable.Repeat((byte)0xff, 32).ToArray() });
        var current = new PcrPolicy(Pcrs, now);
        var tokens = new[]
        {
            new Init.Crypt.TpmToken(0, 1, "1.0", other, SealedSecret.Seal(_tpm, [1], other)),
            new Init.Crypt.TpmToken(1, 2, "2.0", current, SealedSecret.Seal(_tpm, [2], current)),
        };
        var warnings = new List<string>();
        int commands = _bus.Seen.Count;

        var opened = Init.Crypt.TpmKeys.Unseal(_tpm, tokens, warnings.Add);

        Assert.NotNull(opened);
        Assert.Equal("2.0", opened.Value.Token.Release);
        Assert.Equal([2], opened.Value.Key);
        Assert.Equal($"token 0 (key slot 1, sealed for release 1.0: {other}): sealed for another PCR 11 (this boot's is {Convert.ToHexStringLower(now[11])}): not tried", Assert.Single(warnings));
        // One PCR read, then one unseal's commands (primary, load, session, policy, unseal, three flushes).
        Assert.Equal(1 + 8, _bus.Seen.Count - commands);
    }

    [Fact]
    public void A_token_round_trips_through_the_luks2_json_and_a_malformed_one_is_skipped_with_a_warning()
    {
        var policy = new PcrPolicy(Pcrs, _tpm.PcrRead(Pcrs));
        var token = new Init.Crypt.TpmToken(4, 7, "2.1", policy, new SealedBlob([1, 2, 3], [4, 5]));
        var malformed = """{"type":"initos-tpm2","keyslots":["9"],"initos_release":"x","initos_pcrs":{"7":"zz"}}""";
        var metadata = """{"keyslots":{"0":{},"7":{}},"tokens":{"4":""" + token.ToJson() + ""","5":""" + malformed + ""","6":{"type":"systemd-tpm2"}}}""";
        var warnings = new List<string>();

        var parsed = Assert.Single(Init.Crypt.TpmToken.FromMetadata(metadata, warnings.Add));

        Assert.Equal(token.ToString(), parsed.ToString());
        Assert.Equal([1, 2, 3], parsed.Blob.Private);
        Assert.Equal([4, 5], parsed.Blob.Public);
        Assert.StartsWith("LUKS2 token 5 (initos-tpm2) is malformed and is ignored: ", Assert.Single(warnings), StringComparison.Ordinal);
        Assert.Equal([0, 7], Init.Crypt.TpmToken.UsedKeySlots(metadata).Order());
        Assert.Empty(Init.Crypt.RecoveryKey.Slots(metadata));
        Assert.Equal([3], Init.Crypt.RecoveryKey.Slots("""{"tokens":{"0":{"type":"initos-recovery","keyslots":["3"]},"1":{"type":"initos-recovery","keyslots":[4]},"2":"junk"}}"""));
        Assert.Throws<ArgumentException>(() => (token with { Release = "1.0\",\"x" }).ToJson());
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

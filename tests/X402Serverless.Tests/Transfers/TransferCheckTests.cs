using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Core.Money;
using X402Serverless.Core.Transfers;

namespace X402Serverless.Tests.Transfers;

/// <summary>The chain-facing rules of a transfer and the shape of its proof, each refusal with its own code.</summary>
public sealed class TransferCheckTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly EvmAddress Token = Address();
    private static readonly EvmAddress PayTo = Address();
    private static readonly EvmAddress Sender = Address();
    private static readonly TransferTerms Terms = new(84532, Token, PayTo, Sender, new TokenAmount(10_000), 3, TimeSpan.FromMinutes(10));

    [Fact]
    public void A_confirmed_fresh_transfer_of_the_token_from_the_sender_to_payTo_pays_what_it_moved_summing_its_logs()
    {
        var verdict = TransferCheck.Judge(Observed([Log(Token, Sender, PayTo, 6_000), Log(Token, Sender, PayTo, 5_000)]), Terms, Now);
        Assert.True(verdict.Pays);
        Assert.Equal(new TokenAmount(11_000), verdict.Value);
    }

    [Theory]
    [InlineData("chain", TransferReasons.WrongChain)]
    [InlineData("reverted", TransferReasons.Reverted)]
    [InlineData("token", TransferReasons.WrongToken)]
    [InlineData("payTo", TransferReasons.WrongPayTo)]
    [InlineData("sender", TransferReasons.WrongSender)]
    [InlineData("relayed", TransferReasons.WrongSender)] // the payer's Transfer, in a transaction someone else sent (an x402 settlement)
    [InlineData("value", TransferReasons.InsufficientValue)]
    [InlineData("confirmations", TransferReasons.Unconfirmed)]
    [InlineData("age", TransferReasons.TooOld)]
    public void Each_way_a_transfer_falls_short_has_its_own_reason(string fault, string reason)
    {
        var log = fault switch
        {
            "token" => Log(Address(), Sender, PayTo, 10_000),
            "payTo" => Log(Token, Sender, Address(), 10_000),
            "sender" => Log(Token, Address(), PayTo, 10_000),
            "value" => Log(Token, Sender, PayTo, 9_999),
            _ => Log(Token, Sender, PayTo, 10_000),
        };
        var observed = Observed([log], succeeded: fault != "reverted", chainId: fault == "chain" ? 1 : 84532,
            head: fault == "confirmations" ? 101 : 102, minedAt: fault == "age" ? Now.AddMinutes(-10).AddSeconds(-1) : Now.AddMinutes(-1),
            sentBy: fault == "relayed" ? Address() : Sender);
        Assert.Equal(reason, TransferCheck.Judge(observed, Terms, Now).Reason);
    }

    private static readonly TransferTerms NativeTerms = Terms with { Minimum = new TokenAmount(4_000_000_000_000), Native = true };

    [Fact]
    public void A_native_transfer_pays_by_its_own_to_and_value_and_ignores_token_logs()
    {
        var verdict = TransferCheck.Judge(Observed([], to: PayTo, value: 5_000_000_000_000), NativeTerms, Now);
        Assert.True(verdict.Pays);
        Assert.Equal(new TokenAmount(5_000_000_000_000), verdict.Value);
        // A token Transfer to payTo in a transaction that carried no coin to payTo pays nothing in coin.
        Assert.Equal(TransferReasons.WrongPayTo, TransferCheck.Judge(Observed([Log(Token, Sender, PayTo, 10_000)], to: Token), NativeTerms, Now).Reason);
    }

    [Theory]
    [InlineData("payTo", TransferReasons.WrongPayTo)]
    [InlineData("creation", TransferReasons.WrongPayTo)]
    [InlineData("value", TransferReasons.InsufficientValue)]
    [InlineData("reverted", TransferReasons.Reverted)]
    [InlineData("relayed", TransferReasons.WrongSender)]
    [InlineData("confirmations", TransferReasons.Unconfirmed)]
    [InlineData("age", TransferReasons.TooOld)]
    public void Each_way_a_native_transfer_falls_short_has_its_own_reason(string fault, string reason)
    {
        var observed = Observed([], succeeded: fault != "reverted", head: fault == "confirmations" ? 101 : 102,
            minedAt: fault == "age" ? Now.AddMinutes(-10).AddSeconds(-1) : Now.AddMinutes(-1), sentBy: fault == "relayed" ? Address() : Sender,
            to: fault switch { "payTo" => Address(), "creation" => null, _ => PayTo },
            value: fault == "value" ? 3_999_999_999_999 : 4_000_000_000_000);
        Assert.Equal(reason, TransferCheck.Judge(observed, NativeTerms, Now).Reason);
    }

    [Theory]
    [InlineData(10_000, 6, "400000000000000", "4000000000000")]
    [InlineData(1, 6, "3", "1")]            // rounded up: the payee never gets less than the rate says
    [InlineData(1, 18, "1000000000000000000", "1")]
    public void The_native_price_is_the_token_price_at_the_rate_rounded_up(long units, int decimals, string rate, string wei)
    {
        Assert.Equal(BigInteger.Parse(wei, System.Globalization.CultureInfo.InvariantCulture),
            NativePrice.Wei(new TokenAmount(units), decimals, BigInteger.Parse(rate, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void A_legacy_transaction_without_a_chain_id_is_judged_by_its_logs()
    {
        Assert.True(TransferCheck.Judge(Observed([Log(Token, Sender, PayTo, 10_000)], chainId: null), Terms, Now).Pays);
    }

    [Fact]
    public void A_proof_signed_here_recovers_its_signer_and_any_change_to_what_was_signed_does_not()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var proof = Proof(Secp256k1.AddressOf(key));
        var signed = proof with { Signature = PaymentProofHasher.Sign(84532, proof, key) };
        Assert.Equal(proof.From, PaymentProofHasher.Signer(84532, signed));
        Assert.NotEqual(proof.From, PaymentProofHasher.Signer(1, signed));
        Assert.NotEqual(proof.From, PaymentProofHasher.Signer(84532, signed with { ResourceUrl = "https://gw.example/l/lnk_other" }));
        Assert.NotEqual(proof.From, PaymentProofHasher.Signer(84532, signed with { TxRef = "0x" + new string('1', 64) }));
        Assert.NotEqual(proof.From, PaymentProofHasher.Signer(84532, signed with { Amount = "1" }));
    }

    [Fact]
    public void Other_payloads_are_not_taken_for_txid_and_malformed_txid_payloads_are_refused()
    {
        Assert.False(TxidProofDecoder.Decode(null).IsTxid);
        Assert.False(TxidProofDecoder.Decode("not base64!").IsTxid);
        Assert.False(TxidProofDecoder.Decode(B64("""{"x402Version":2,"payload":{"signature":"0x","authorization":{}}}""")).IsTxid);
        Assert.False(TxidProofDecoder.Decode(new string('A', 20_000)).IsTxid);

        var good = Header();
        var decoded = TxidProofDecoder.Decode(B64(good.ToJsonString()));
        Assert.NotNull(decoded.Proof);

        foreach (var broken in new Action<JsonObject>[]
        {
            j => j["x402Version"] = 1,
            j => j["payload"]!["alg"] = "Ed25519",
            j => j["payload"]!["txRef"] = "0x12",
            j => j["payload"]!["txRef"] = 42,
            j => j["payload"]!["from"] = "nobody",
            j => j["payload"]!["signature"] = "0x" + new string('a', 10),
            j => j.Remove("resource"),
            j => j.Remove("accepted"),
            j => j["accepted"]!["maxTimeoutSeconds"] = "sixty",
            j => j["accepted"]!["payTo"] = "0x1",
        })
        {
            var copy = good.DeepClone().AsObject();
            broken(copy);
            var result = TxidProofDecoder.Decode(B64(copy.ToJsonString()));
            Assert.True(result.IsTxid);
            Assert.Null(result.Proof);
            Assert.NotNull(result.Message);
        }
    }

    private static JsonObject Header() => new()
    {
        ["x402Version"] = 2,
        ["resource"] = new JsonObject { ["url"] = "https://gw.example/l/lnk_a", ["description"] = "d", ["mimeType"] = "" },
        ["accepted"] = new JsonObject
        {
            ["scheme"] = "exact", ["network"] = "eip155:84532", ["amount"] = "10000", ["asset"] = Token.ToString(), ["payTo"] = PayTo.ToString(), ["maxTimeoutSeconds"] = 60,
        },
        ["payload"] = new JsonObject
        {
            ["type"] = "txid", ["alg"] = "ES256K", ["format"] = "eip712", ["txRef"] = "0x" + new string('a', 64), ["from"] = Sender.ToString(),
            ["signature"] = "0x" + new string('b', 130),
        },
    };

    private static TxidProof Proof(EvmAddress from) => new("0x" + new string('a', 64), from, [], "https://gw.example/l/lnk_a", "d", "",
        default, "exact", "eip155:84532", "10000", Token.ToString(), PayTo, 60);

    private static string B64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json));

    private static EvmAddress Address() => Secp256k1.AddressOf(RandomNumberGenerator.GetBytes(32));

    private static ReceiptLog Log(EvmAddress token, EvmAddress from, EvmAddress to, long value) => new(token.ToLowerHex(),
        [TransferProof.TransferTopic, Hex.Encode(AbiWord.Address(from)), Hex.Encode(AbiWord.Address(to))], Hex.Encode(AbiWord.UInt256(value)), 0);

    private static ObservedTransfer Observed(ReceiptLog[] logs, bool succeeded = true, long? chainId = 84532, long head = 102, DateTimeOffset? minedAt = null,
        EvmAddress? sentBy = null, EvmAddress? to = null, long value = 0) =>
        new(new TransactionReceipt("0x" + new string('a', 64), succeeded, 100, 50_000, null, logs), chainId, minedAt ?? Now.AddMinutes(-1), new BigInteger(head),
            sentBy ?? Sender, to, value);
}

using System.Numerics;
using System.Security.Cryptography;
using X402Serverless.Core.Chain;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;

namespace X402Serverless.Tests.Chain;

/// <summary>What counts as proof that an authorization paid: its own AuthorizationUsed immediately followed by its Transfer.</summary>
public sealed class TransferProofTests
{
    private static readonly EvmAddress Token = Address();
    private static readonly EvmAddress Payer = Address();
    private static readonly EvmAddress PayTo = Address();
    private static readonly AuthorizedTransfer Paid = new(Payer, PayTo, 10_000, RandomNumberGenerator.GetBytes(32));

    private static EvmAddress Address() => Secp256k1.AddressOf(RandomNumberGenerator.GetBytes(32));

    private static ReceiptLog Used(AuthorizedTransfer t, int index, EvmAddress? token = null) => new((token ?? Token).ToLowerHex(),
        [TransferProof.AuthorizationUsedTopic, Hex.Encode(AbiWord.Address(t.From)), Hex.Encode(t.Nonce)], "0x", index);

    private static ReceiptLog Transfer(EvmAddress from, EvmAddress to, BigInteger value, int index, EvmAddress? token = null) => new((token ?? Token).ToLowerHex(),
        [TransferProof.TransferTopic, Hex.Encode(AbiWord.Address(from)), Hex.Encode(AbiWord.Address(to))], Hex.Encode(AbiWord.UInt256(value)), index);

    private static TransactionReceipt Receipt(bool succeeded, params ReceiptLog[] logs) => new("0xabc", succeeded, 7, 50_000, 1, logs);

    [Fact]
    public void The_authorizations_own_transfer_proves_it()
    {
        Assert.True(TransferProof.Shows(Receipt(true, Used(Paid, 3), Transfer(Payer, PayTo, 10_000, 4)), Token, Paid));
    }

    [Fact]
    public void A_zero_value_self_transfer_with_the_same_nonce_proves_nothing()
    {
        Assert.False(TransferProof.Shows(Receipt(true, Used(Paid, 0), Transfer(Payer, Payer, 0, 1)), Token, Paid));
    }

    [Fact]
    public void A_batch_cannot_lend_another_authorizations_transfer_to_a_burned_nonce()
    {
        var other = Paid with { Nonce = RandomNumberGenerator.GetBytes(32) };
        var batch = Receipt(true, Used(Paid, 0), Transfer(Payer, Payer, 0, 1), Used(other, 2), Transfer(Payer, PayTo, 10_000, 3));
        Assert.False(TransferProof.Shows(batch, Token, Paid));
        Assert.True(TransferProof.Shows(batch, Token, other));
    }

    [Theory]
    [InlineData("value")]
    [InlineData("recipient")]
    [InlineData("sender")]
    [InlineData("token")]
    [InlineData("gap")]
    [InlineData("reverted")]
    [InlineData("alone")]
    public void Anything_short_of_the_exact_transfer_proves_nothing(string broken)
    {
        var receipt = broken switch
        {
            "value" => Receipt(true, Used(Paid, 0), Transfer(Payer, PayTo, 9_999, 1)),
            "recipient" => Receipt(true, Used(Paid, 0), Transfer(Payer, Address(), 10_000, 1)),
            "sender" => Receipt(true, Used(Paid, 0), Transfer(Address(), PayTo, 10_000, 1)),
            "token" => Receipt(true, Used(Paid, 0, Address()), Transfer(Payer, PayTo, 10_000, 1, Address())),
            "gap" => Receipt(true, Used(Paid, 0), Transfer(Payer, PayTo, 10_000, 2)),
            "reverted" => Receipt(false, Used(Paid, 0), Transfer(Payer, PayTo, 10_000, 1)),
            _ => Receipt(true, Transfer(Payer, PayTo, 10_000, 0)),
        };
        Assert.False(TransferProof.Shows(receipt, Token, Paid));
    }
}

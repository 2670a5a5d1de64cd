using X402Serverless.Core.Facilitation;

namespace X402Serverless.Tests.Protocol;

public sealed class RevertReasonsTests
{
    [Theory]
    [InlineData("execution reverted: FiatTokenV2: authorization is used or canceled", null, "invalid_exact_evm_nonce_already_used")]
    [InlineData("execution reverted: FiatTokenV2: authorization is expired", null, "invalid_exact_evm_payload_authorization_valid_before")]
    [InlineData("execution reverted: FiatTokenV2: authorization is not yet valid", null, "invalid_exact_evm_payload_authorization_valid_after")]
    [InlineData("execution reverted: FiatTokenV2: invalid signature", null, "invalid_exact_evm_signature")]
    [InlineData("execution reverted: ERC20: transfer amount exceeds balance", null, "invalid_exact_evm_insufficient_balance")]
    [InlineData("execution reverted", "0xe450d38c0000000000000000000000002c7536e3605d9c16a7a3d7b1898e529396a65c23", "invalid_exact_evm_insufficient_balance")]
    [InlineData("execution reverted: something new", null, "invalid_exact_evm_transaction_simulation_failed")]
    public void Token_reverts_map_to_x402_reasons(string message, string? data, string reason) =>
        Assert.Equal(reason, RevertReasons.Map(message, data));
}

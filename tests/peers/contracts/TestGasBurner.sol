// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Code at a payer's address that burns gas in its signature check and then accepts whatever it is asked: what an
/// EIP-7702 delegate (or a contract wallet) can do to the facilitator that pays the settlement's gas. The tests place
/// its runtime code at a funded payer's address (anvil_setCode). Its check costs about 600,000 gas.
contract TestGasBurner {
    function isValidSignature(bytes32 hash, bytes calldata) external pure returns (bytes4) {
        bytes32 h = hash;
        for (uint256 i = 0; i < 5000; i++) {
            assembly { // scratch space: no memory growth, so the cost is linear
                mstore(0, h)
                mstore(32, i)
                h := keccak256(0, 64)
            }
        }
        // Uses the result, so the loop is not optimised away (h is never zero).
        return h == bytes32(0) ? bytes4(0xffffffff) : bytes4(0x1626ba7e);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// A contract wallet for the tests: it accepts (EIP-1271) what its owner key signs, as smart accounts do. Like many of
/// them it lets a signature carry more than the 65 bytes (here: ignored), so payers' signatures of any length are tried.
contract TestSmartWallet {
    address public immutable owner;

    constructor(address owner_) { owner = owner_; }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length < 65) return bytes4(0xffffffff);
        (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(hash, signature[:65]);
        return error == ECDSA.RecoverError.NoError && signer == owner ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}

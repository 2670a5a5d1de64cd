// The paywall's wallet payment: an injected EIP-1193 wallet signs the EIP-3009 authorization the 402 asks for
// (eth_signTypedData_v4), and the page retries its own URL with it in PAYMENT-SIGNATURE, as any x402 v2 client does.
// And the wallet sign-in: the wallet signs an x402 sign-in-with-x proof (EIP-4361 text, personal_sign) for this URL,
// and the page retries with it in SIGN-IN-WITH-X, paying from the wallet's pass or its payer account's credits.
// Served by the gateway under the page's CSP nonce; no third-party code. Nothing of the answer is ever parsed as HTML.
(function () {
  "use strict";
  var wallet = window.ethereum;

  function decodeBase64Json(value) {
    var binary = atob(value);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return JSON.parse(new TextDecoder().decode(bytes));
  }

  function encodeBase64Json(value) {
    var bytes = new TextEncoder().encode(JSON.stringify(value));
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary);
  }

  function randomNonce() {
    var bytes = new Uint8Array(32);
    crypto.getRandomValues(bytes);
    return "0x" + Array.prototype.map.call(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function chainOf(network) {
    var m = /^eip155:(\d+)$/.exec(network);
    return m ? Number(m[1]) : null;
  }

  var hasWallet = !!wallet && typeof wallet.request === "function";

  function typedData(requirement, chainId, from) {
    var now = Math.floor(Date.now() / 1000);
    var authorization = {
      from: from,
      to: requirement.payTo,
      value: requirement.amount,
      validAfter: String(now - 600),
      validBefore: String(now + requirement.maxTimeoutSeconds),
      nonce: randomNonce()
    };
    var data = {
      types: {
        EIP712Domain: [
          { name: "name", type: "string" }, { name: "version", type: "string" },
          { name: "chainId", type: "uint256" }, { name: "verifyingContract", type: "address" }
        ],
        TransferWithAuthorization: [
          { name: "from", type: "address" }, { name: "to", type: "address" }, { name: "value", type: "uint256" },
          { name: "validAfter", type: "uint256" }, { name: "validBefore", type: "uint256" }, { name: "nonce", type: "bytes32" }
        ]
      },
      primaryType: "TransferWithAuthorization",
      domain: { name: requirement.extra.name, version: requirement.extra.version, chainId: chainId, verifyingContract: requirement.asset },
      message: authorization
    };
    return { data: data, authorization: authorization };
  }

  // What a refused payment says: the 402's reason, else the problem's detail.
  function refusal(response, body) {
    var detail = "";
    try { detail = JSON.parse(new TextDecoder().decode(body)).detail || ""; } catch (e) { detail = ""; }
    if (response.status === 402 && response.headers.get("PAYMENT-REQUIRED")) {
      detail = decodeBase64Json(response.headers.get("PAYMENT-REQUIRED")).error || detail;
    }
    return "Not paid (" + response.status + (detail ? ": " + detail : "") + "). Nothing was charged.";
  }

  function show(output, response, body) {
    output.hidden = false;
    output.replaceChildren();
    var type = response.headers.get("content-type") || "";
    var textual = /^(text\/|application\/([a-z0-9.+-]*\+)?(json|xml)|application\/javascript)/i.test(type);
    if (textual) {
      var pre = document.createElement("pre");
      pre.textContent = new TextDecoder().decode(body);
      output.appendChild(pre);
    } else {
      // Offered as a download of opaque bytes: a blob of the upstream's own type would open in this origin.
      var a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([body], { type: "application/octet-stream" }));
      a.download = "response";
      a.textContent = "Download the response (" + body.byteLength + " bytes, " + (type || "unknown type") + ")";
      output.appendChild(a);
    }
  }

  // Keccak-256 (the original padding Ethereum uses), for the EIP-55 checksum a sign-in message must carry: wallets
  // often return addresses in lower case. 64-bit lanes as BigInt; speed does not matter for 20 bytes.
  var keccak256 = (function () {
    var mask = (1n << 64n) - 1n;
    var roundConstants = [];
    var lfsr = 1;
    for (var round = 0; round < 24; round++) {
      var rc = 0n;
      for (var j = 0; j < 7; j++) {
        if (lfsr & 1) rc ^= 1n << BigInt((1 << j) - 1);
        lfsr = (lfsr & 0x80) ? ((lfsr << 1) ^ 0x71) & 0xff : (lfsr << 1) & 0xff;
      }
      roundConstants.push(rc);
    }
    var offsets = new Array(25).fill(0);
    for (var t = 0, x = 1, y = 0; t < 24; t++) {
      offsets[x + 5 * y] = ((t + 1) * (t + 2) / 2) % 64;
      var nx = y, ny = (2 * x + 3 * y) % 5;
      x = nx; y = ny;
    }
    function rotl(v, n) { return n === 0 ? v : ((v << BigInt(n)) | (v >> BigInt(64 - n))) & mask; }
    function permute(s) {
      for (var round = 0; round < 24; round++) {
        var c = [], d = [], b = new Array(25);
        for (var x = 0; x < 5; x++) c[x] = s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20];
        for (x = 0; x < 5; x++) d[x] = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
        for (var i = 0; i < 25; i++) s[i] ^= d[i % 5];
        for (x = 0; x < 5; x++) {
          for (var y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(s[x + 5 * y], offsets[x + 5 * y]);
        }
        for (i = 0; i < 25; i++) s[i] = b[i] ^ (~b[(i % 5 + 1) % 5 + 5 * Math.floor(i / 5)] & mask & b[(i % 5 + 2) % 5 + 5 * Math.floor(i / 5)]);
        s[0] ^= roundConstants[round];
      }
    }
    return function (bytes) {
      var rate = 136;
      var padded = new Uint8Array(Math.floor(bytes.length / rate + 1) * rate);
      padded.set(bytes);
      padded[bytes.length] ^= 0x01;
      padded[padded.length - 1] ^= 0x80;
      var s = new Array(25).fill(0n);
      for (var off = 0; off < padded.length; off += rate) {
        for (var i = 0; i < rate / 8; i++) {
          var lane = 0n;
          for (var k = 7; k >= 0; k--) lane = (lane << 8n) | BigInt(padded[off + 8 * i + k]);
          s[i] ^= lane;
        }
        permute(s);
      }
      var out = new Uint8Array(32);
      for (var n = 0; n < 32; n++) out[n] = Number((s[n >> 3] >> BigInt(8 * (n & 7))) & 0xffn);
      return out;
    };
  })();

  function checksumAddress(address) {
    var lower = address.toLowerCase().replace(/^0x/, "");
    var hash = keccak256(new TextEncoder().encode(lower));
    var out = "0x";
    for (var i = 0; i < 40; i++) {
      var nibble = (hash[i >> 1] >> (i % 2 === 0 ? 4 : 0)) & 0xf;
      out += nibble >= 8 ? lower[i].toUpperCase() : lower[i];
    }
    return out;
  }

  // Pay with the wallet (x402 exact, EIP-3009).
  (function () {
    var button = document.getElementById("wallet-pay");
    var status = document.getElementById("wallet-status");
    var output = document.getElementById("wallet-result");
    if (!button || !status || !output) return;
    function say(text) { status.textContent = text; }
    var required = decodeBase64Json(button.getAttribute("data-required"));
    var options = (required.accepts || []).filter(function (r) {
      return r.scheme === "exact" && chainOf(r.network) !== null && !(r.extra && r.extra.assetTransferMethod);
    });
    if (!hasWallet || options.length === 0) {
      say(options.length === 0 ? "This link takes no wallet payment here." : "No browser wallet found. Use an x402 client, or the other options below.");
      return;
    }
    button.disabled = false;
    say("");

    async function pick() {
      var chainId = parseInt(await wallet.request({ method: "eth_chainId" }), 16);
      var match = options.find(function (r) { return chainOf(r.network) === chainId; });
      if (match) return { requirement: match, chainId: chainId };
      // The wallet is on another chain: ask it to switch to the first one this link takes.
      var wanted = chainOf(options[0].network);
      await wallet.request({ method: "wallet_switchEthereumChain", params: [{ chainId: "0x" + wanted.toString(16) }] });
      return { requirement: options[0], chainId: wanted };
    }

    button.addEventListener("click", async function () {
      button.disabled = true;
      try {
        say("Connecting to the wallet…");
        var accounts = await wallet.request({ method: "eth_requestAccounts" });
        var from = accounts[0];
        var chosen = await pick();
        var signed = typedData(chosen.requirement, chosen.chainId, from);
        say("Sign the payment in the wallet…");
        var signature = await wallet.request({ method: "eth_signTypedData_v4", params: [from, JSON.stringify(signed.data)] });
        var payment = {
          x402Version: 2,
          resource: required.resource,
          accepted: chosen.requirement,
          payload: { signature: signature, authorization: signed.authorization }
        };
        say("Paying…");
        var response = await fetch(required.resource.url, {
          method: button.getAttribute("data-method") || "GET",
          headers: { "PAYMENT-SIGNATURE": encodeBase64Json(payment), "Accept": "*/*" },
          credentials: "omit",
          cache: "no-store"
        });
        var body = await response.arrayBuffer();
        if (response.ok) {
          var receipt = response.headers.get("PAYMENT-RESPONSE");
          var tx = receipt ? decodeBase64Json(receipt).transaction : null;
          say("Paid" + (tx ? " · transaction " + tx : "") + ".");
          show(output, response, body);
          return;
        }
        say(refusal(response, body));
        button.disabled = false;
      } catch (e) {
        say(e && e.code === 4001 ? "Cancelled in the wallet. Nothing was charged." : "The wallet payment failed: " + ((e && e.message) || e));
        button.disabled = false;
      }
    });
  })();

  // Sign in with the wallet (x402 sign-in-with-x) and pay from its pass or its payer account's credits.
  (function () {
    var button = document.getElementById("signin-pay");
    var status = document.getElementById("signin-status");
    var output = document.getElementById("signin-result");
    if (!button || !status || !output) return;
    function say(text) { status.textContent = text; }
    if (!hasWallet) {
      say("No browser wallet found. Use the payer key form.");
      return;
    }
    var resource = new URL(button.getAttribute("data-resource"));
    var chains = (button.getAttribute("data-chains") || "").split(",").filter(Boolean).map(Number);
    button.disabled = false;
    say("");

    function signInNonce() {
      var bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      return Array.prototype.map.call(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    }

    function utf8Hex(text) {
      return "0x" + Array.prototype.map.call(new TextEncoder().encode(text), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    }

    button.addEventListener("click", async function () {
      button.disabled = true;
      try {
        say("Connecting to the wallet…");
        var accounts = await wallet.request({ method: "eth_requestAccounts" });
        var address = checksumAddress(accounts[0]);
        var walletChain = parseInt(await wallet.request({ method: "eth_chainId" }), 16);
        // The proof names a chain the link is paid on; an EOA's signature does not depend on it, so no switch is asked.
        var chainId = chains.indexOf(walletChain) >= 0 ? walletChain : chains[0];
        var proof = {
          domain: resource.host,
          address: address,
          // The gateway's statement: what this proof may spend from credits (this method, up to this price).
          statement: button.getAttribute("data-statement"),
          uri: resource.href,
          version: "1",
          chainId: "eip155:" + chainId,
          type: "eip191",
          nonce: signInNonce(),
          issuedAt: new Date().toISOString()
        };
        // EIP-4361 text, laid out exactly as the gateway rebuilds it from these fields.
        var message = proof.domain + " wants you to sign in with your Ethereum account:\n" + proof.address + "\n\n" + proof.statement + "\n\n" +
          "URI: " + proof.uri + "\nVersion: " + proof.version + "\nChain ID: " + chainId + "\nNonce: " + proof.nonce + "\nIssued At: " + proof.issuedAt;
        say("Sign in in the wallet…");
        proof.signature = await wallet.request({ method: "personal_sign", params: [utf8Hex(message), address] });
        say("Paying…");
        var response = await fetch(resource.href, {
          method: button.getAttribute("data-method") || "GET",
          headers: { "SIGN-IN-WITH-X": encodeBase64Json(proof), "Accept": "*/*" },
          credentials: "omit",
          cache: "no-store"
        });
        var body = await response.arrayBuffer();
        if (response.ok) {
          var passLeft = response.headers.get("X-Pass-Calls-Left");
          var charged = response.headers.get("X-Charged");
          say(response.headers.get("X-Pass-Id") ? "Paid with your pass" + (passLeft ? " · " + passLeft + " calls left" : "") + "."
            : "Paid from your credits" + (charged ? " · " + charged : "") + ".");
          show(output, response, body);
          return;
        }
        say(refusal(response, body));
        button.disabled = false;
      } catch (e) {
        say(e && e.code === 4001 ? "Cancelled in the wallet. Nothing was charged." : "The wallet sign-in failed: " + ((e && e.message) || e));
        button.disabled = false;
      }
    });
  })();
})();

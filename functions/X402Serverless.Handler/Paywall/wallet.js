// The paywall's wallet payment: an injected EIP-1193 wallet signs the EIP-3009 authorization the 402 asks for
// (eth_signTypedData_v4), and the page retries its own URL with it in PAYMENT-SIGNATURE, as any x402 v2 client does.
// Served by the gateway under the page's CSP nonce; no third-party code. Nothing of the answer is ever parsed as HTML.
(function () {
  "use strict";
  var button = document.getElementById("wallet-pay");
  var status = document.getElementById("wallet-status");
  var output = document.getElementById("wallet-result");
  if (!button || !status || !output) return;

  function say(text) { status.textContent = text; }

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

  var required = decodeBase64Json(button.getAttribute("data-required"));
  var options = (required.accepts || []).filter(function (r) {
    return r.scheme === "exact" && chainOf(r.network) !== null && !(r.extra && r.extra.assetTransferMethod);
  });
  var wallet = window.ethereum;
  if (!wallet || typeof wallet.request !== "function" || options.length === 0) {
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

  function show(response, body) {
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
        show(response, body);
        return;
      }
      var detail = "";
      try { detail = JSON.parse(new TextDecoder().decode(body)).detail || ""; } catch (e) { detail = ""; }
      if (response.status === 402 && response.headers.get("PAYMENT-REQUIRED")) {
        detail = decodeBase64Json(response.headers.get("PAYMENT-REQUIRED")).error || detail;
      }
      say("Not paid (" + response.status + (detail ? ": " + detail : "") + "). Nothing was charged.");
      button.disabled = false;
    } catch (e) {
      say(e && e.code === 4001 ? "Cancelled in the wallet. Nothing was charged." : "The wallet payment failed: " + ((e && e.message) || e));
      button.disabled = false;
    }
  });
})();

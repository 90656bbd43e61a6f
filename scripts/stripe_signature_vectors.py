#!/usr/bin/env python3
"""Writes Stripe-Signature test vectors signed by Stripe's official Python library.

    python3 -m venv /tmp/sv && /tmp/sv/bin/pip install 'stripe==12.5.1'
    /tmp/sv/bin/python scripts/stripe_signature_vectors.py > server/tests/fixtures/stripe_signature_vectors.json

Our verifier (app/src/server/stripe/signature.rs) must agree with every vector; the valid ones
are also checked here with the library's own verify_header, so the two implementations meet.
"""
import json

import stripe
from stripe import WebhookSignature

T = 1767225600  # 2026-01-01T00:00:00Z
OLD, NEW, OTHER = "whsec_old_rotation_secret_0001", "whsec_new_rotation_secret_0002", "whsec_someone_else"

payload = json.dumps(
    {
        "id": "evt_1Pgc76B7WZ01zgkWwyRHS12y",
        "object": "event",
        "api_version": "2024-06-20",
        "created": T,
        "livemode": False,
        "type": "customer.updated",
        "data": {"object": {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "name": "Zoë Ünïcode", "email": "zoe@example.com"}},
    },
    ensure_ascii=False,
    separators=(",", ":"),
)


def v1(secret, t=T, body=payload):
    return WebhookSignature._compute_signature("%d.%s" % (t, body), secret)


def case(name, header, secrets, now, expect, body=payload, tolerance=300):
    if expect == "ok":
        # The official verifier agrees (it checks only the past side of the window).
        assert any(_ok(body, header, s) for s in secrets), name
    return {"name": name, "payload": body, "header": header, "secrets": secrets, "now": now, "tolerance": tolerance, "expect": expect}


def _ok(body, header, secret):
    try:
        return WebhookSignature.verify_header(body, header, secret, tolerance=None)
    except stripe.SignatureVerificationError:
        return False


cases = [
    case("valid", f"t={T},v1={v1(NEW)}", [NEW], T + 10, "ok"),
    case("valid at the edge of the window", f"t={T},v1={v1(NEW)}", [NEW], T + 300, "ok"),
    case("wrong secret", f"t={T},v1={v1(OTHER)}", [NEW], T, "signature_mismatch"),
    case("tampered body", f"t={T},v1={v1(NEW)}", [NEW], T, "signature_mismatch", body=payload.replace("zoe@", "eve@")),
    case("timestamp changed after signing", f"t={T + 1},v1={v1(NEW)}", [NEW], T, "signature_mismatch"),
    case("stale", f"t={T},v1={v1(NEW)}", [NEW], T + 301, "timestamp_outside_tolerance"),
    case("future", f"t={T},v1={v1(NEW)}", [NEW], T - 301, "timestamp_outside_tolerance"),
    case("several v1, the second matches", f"t={T},v1={v1(OTHER)},v1={v1(NEW)}", [NEW], T, "ok"),
    case("v0 alongside v1", f"t={T},v1={v1(NEW)},v0={v1(OTHER)}", [NEW], T, "ok"),
    case("rotation: signed with the new secret", f"t={T},v1={v1(NEW)}", [OLD, NEW], T, "ok"),
    case("rotation: signed with the old secret", f"t={T},v1={v1(OLD)}", [OLD, NEW], T, "ok"),
    case("rotation: old secret retired", f"t={T},v1={v1(OLD)}", [NEW], T, "signature_mismatch"),
    case("only v0", f"t={T},v0={v1(NEW)}", [NEW], T, "no_v1_signature"),
    case("no timestamp", f"v1={v1(NEW)}", [NEW], T, "malformed_header"),
]
print(json.dumps({"generated_by": f"stripe-python {stripe.VERSION}", "cases": cases}, indent=1, ensure_ascii=False))

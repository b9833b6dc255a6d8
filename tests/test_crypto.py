"""Secure command envelope: published vectors, round trips, tampering, keys, replay."""

import datetime
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepaid_energy_core.crypto import (
    AES_CMAC,
    AES_GCM,
    ALGORITHMS,
    REASON_ALGORITHM_MISMATCH,
    REASON_AUTHENTICATION,
    REASON_EXPIRED,
    REASON_LEGACY_REFUSED,
    REASON_NO_ACTIVE_KEY,
    REASON_REPLAY,
    REASON_RETIRED_KEY,
    REASON_SITE_MISMATCH,
    REASON_UNKNOWN_KEY,
    TDES_CBC,
    TDES_CBC_MAC,
    CryptoError,
    EnvelopeHeader,
    EnvelopeKey,
    KeyRing,
    ReplayGuard,
    aes_cmac,
    aes_gcm_decrypt,
    aes_gcm_encrypt,
    canonical_json,
    open_envelope,
    seal,
    unseal,
)
from prepaid_energy_core.errors import PrepaidEnergyError, ValidationError

UTC = datetime.timezone.utc
NOW = datetime.datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DEADLINE = NOW + datetime.timedelta(minutes=10)
COMMAND = {"action": "push_credit", "meter": "000000123456", "amount": Decimal("50.00"), "n": 7}


def sealed(ring, site="site-a", command=COMMAND, key="cmd-1", deadline=DEADLINE):
    return seal(ring, site, command, idempotency_key=key, deadline=deadline)


def ring_with(algorithm=AES_GCM, site="site-a", legacy=False):
    ring = KeyRing()
    ring.rotate(site, algorithm, legacy=legacy, now=NOW)
    return ring


def legacy_ok(algorithm):
    return algorithm in (TDES_CBC, TDES_CBC_MAC)


# -- published vectors ----------------------------------------------------------
# McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", revised 2005
# (the submission NIST SP 800-38D is built on), Appendix B, Test Case 16:
# AES-256, 96-bit IV, 60-byte plaintext, 20-byte additional data.
GCM_TC16 = {
    "key": "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
    "iv": "cafebabefacedbaddecaf888",
    "pt": "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    "aad": "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    "ct": "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
    "tag": "76fc6ece0f4e1768cddf8853bb2d551b",
}
# NIST CAVP, GCM test vectors, gcmEncryptExtIV256.rsp,
# [Keylen = 256] [IVlen = 96] [PTlen = 0] [AADlen = 0] [Taglen = 128], Count = 0.
GCM_CAVP_256_COUNT0 = {
    "key": "b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4",
    "iv": "516c33929df5a3284ff463d7",
    "pt": "",
    "aad": "",
    "ct": "",
    "tag": "bdc1ac884d332457a1d2664f168c76f0",
}


@pytest.mark.parametrize("vector", [GCM_TC16, GCM_CAVP_256_COUNT0], ids=["tc16", "cavp0"])
def test_aes_gcm_reproduces_published_vectors(vector):
    key, iv, pt, aad = (bytes.fromhex(vector[name]) for name in ("key", "iv", "pt", "aad"))
    ciphertext, tag = aes_gcm_encrypt(key, iv, pt, aad)
    assert ciphertext.hex() == vector["ct"]
    assert tag.hex() == vector["tag"]
    assert aes_gcm_decrypt(key, iv, ciphertext, tag, aad) == pt


def test_aes_gcm_refuses_a_vector_with_one_aad_bit_changed():
    v = GCM_TC16
    key, iv, aad = (bytes.fromhex(v[name]) for name in ("key", "iv", "aad"))
    bad_aad = bytes([aad[0] ^ 1]) + aad[1:]
    with pytest.raises(CryptoError) as caught:
        aes_gcm_decrypt(key, iv, bytes.fromhex(v["ct"]), bytes.fromhex(v["tag"]), bad_aad)
    assert caught.value.reason == REASON_AUTHENTICATION


# RFC 4493 (The AES-CMAC Algorithm), section 4 "Test Vectors", examples 1-4.
# RFC 4493 covers AES-128 only; the same CMAC (NIST SP 800-38B) runs with our
# 256-bit keys.
RFC4493_KEY = "2b7e151628aed2a6abf7158809cf4f3c"
RFC4493_MESSAGE = (
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
)


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (0, "bb1d6929e95937287fa37d129b756746"),  # Example 1: empty
        (16, "070a16b46b4d4144f79bdd9dd04a287c"),  # Example 2: one block
        (40, "dfa66747de9ae63030ca32611497c827"),  # Example 3: partial last block
        (64, "51f0bebf7e3b9d92fc49741779363cfe"),  # Example 4: four blocks
    ],
)
def test_aes_cmac_reproduces_rfc4493_examples(length, expected):
    message = bytes.fromhex(RFC4493_MESSAGE)[:length]
    assert aes_cmac(bytes.fromhex(RFC4493_KEY), message).hex() == expected


def test_gcm_envelope_is_the_standard_construction_over_header_and_canonical_json():
    # A known key, so the token can be recomputed with the vector-checked
    # primitive: body = AES-GCM(key, nonce, canonical JSON, AAD = header).
    material = bytes(range(32))
    ring = KeyRing()
    ring.add_key(EnvelopeKey("k1", "site-a", AES_GCM, material, NOW))
    token = sealed(ring)
    header, length = EnvelopeHeader.parse(token)
    assert (header.version, header.algorithm, header.key_id, header.site) == (
        1,
        AES_GCM,
        "k1",
        "site-a",
    )
    assert (header.deadline, header.idempotency_key, len(header.nonce)) == (DEADLINE, "cmd-1", 12)
    ciphertext, tag = aes_gcm_encrypt(
        material, header.nonce, canonical_json(COMMAND), token[:length]
    )
    assert token[length:] == ciphertext + tag


def test_cmac_envelope_carries_the_plaintext_and_a_cmac_over_header_and_payload():
    material = bytes(range(100, 132))
    ring = KeyRing()
    ring.add_key(EnvelopeKey("k1", "site-a", AES_CMAC, material, NOW))
    token = sealed(ring)
    _, length = EnvelopeHeader.parse(token)
    payload = canonical_json(COMMAND)
    assert token[length:-16] == payload
    assert token[-16:] == aes_cmac(material, token[:length] + payload)


# -- canonical JSON ------------------------------------------------------------
def test_canonical_json_sorts_keys_and_keeps_decimals_exact():
    a = {"b": Decimal("1.50"), "a": [1, "ü", None, True]}
    b = {"a": [1, "ü", None, True], "b": Decimal("1.50")}
    assert canonical_json(a) == canonical_json(b) == '{"a":[1,"ü",null,true],"b":1.50}'.encode()


@pytest.mark.parametrize(
    "command",
    [{"amount": 1.5}, {"amount": Decimal("NaN")}, {1: "x"}, {"when": NOW}, ["not", "a dict"]],
)
def test_canonical_json_refuses_what_it_cannot_write_exactly(command):
    with pytest.raises(ValidationError):
        canonical_json(command)


# -- round trips -----------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_round_trip_every_algorithm(algorithm):
    ring = ring_with(algorithm, legacy=legacy_ok(algorithm))
    command = {"action": "push_price", "prices": {"peak": Decimal("1.2345"), "valley": 0}}
    opened = unseal(ring, sealed(ring, command=command), now=NOW, site="site-a")
    assert opened.command == command
    assert opened.command["prices"]["peak"] == Decimal("1.2345")
    assert isinstance(opened.command["prices"]["peak"], Decimal)
    assert opened.header.algorithm == algorithm
    assert opened.header.idempotency_key == "cmd-1"


def test_gcm_hides_the_command_and_every_seal_differs():
    ring = ring_with()
    first, second = sealed(ring), sealed(ring)
    assert b"push_credit" not in first
    assert first != second  # fresh nonce each time
    assert open_envelope(ring, first, now=NOW) == open_envelope(ring, second, now=NOW)


# -- tampering ---------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_flipping_any_bit_of_any_byte_is_refused(algorithm):
    ring = ring_with(algorithm, legacy=legacy_ok(algorithm))
    token = sealed(ring)
    for position in range(len(token)):
        for mask in (0x01, 0x80):
            altered = bytearray(token)
            altered[position] ^= mask
            with pytest.raises(CryptoError):
                open_envelope(ring, bytes(altered), now=NOW)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_truncated_or_extended_tokens_are_refused(algorithm):
    ring = ring_with(algorithm, legacy=legacy_ok(algorithm))
    token = sealed(ring)
    for length in range(len(token)):
        with pytest.raises(CryptoError):
            open_envelope(ring, token[:length], now=NOW)
    with pytest.raises(CryptoError):
        open_envelope(ring, token + b"\x00", now=NOW)


@settings(max_examples=60)
@given(data=st.data())
def test_any_byte_replaced_by_any_other_value_is_refused(data):
    ring = ring_with()
    token = sealed(ring)
    position = data.draw(st.integers(0, len(token) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda v: v != token[position]))
    altered = token[:position] + bytes([value]) + token[position + 1 :]
    with pytest.raises(CryptoError):
        open_envelope(ring, altered, now=NOW)


def test_header_claiming_another_algorithm_than_its_key_is_refused():
    ring = ring_with(AES_GCM)
    token = bytearray(sealed(ring))
    token[1] = 2  # aes-cmac's id; the nonce length (12) still parses
    with pytest.raises(CryptoError) as caught:
        open_envelope(ring, bytes(token), now=NOW)
    assert caught.value.reason == REASON_ALGORITHM_MISMATCH


# -- keys ---------------------------------------------------------------------------
def test_wrong_key_of_the_same_id_fails_authentication():
    ours, theirs = ring_with(), ring_with()  # both "site-a#1", different material
    assert ours.active_key("site-a").key_id == theirs.active_key("site-a").key_id
    with pytest.raises(CryptoError) as caught:
        open_envelope(theirs, sealed(ours), now=NOW)
    assert caught.value.reason == REASON_AUTHENTICATION


def test_unknown_key_is_refused():
    with pytest.raises(CryptoError) as caught:
        open_envelope(ring_with(site="site-b"), sealed(ring_with()), now=NOW)
    assert caught.value.reason == REASON_UNKNOWN_KEY


def test_rotation_keeps_old_tokens_until_the_old_key_is_retired():
    ring = ring_with()
    old_token = sealed(ring, key="before")
    new_key = ring.rotate("site-a", now=NOW)
    new_token = sealed(ring, key="after")
    assert EnvelopeHeader.parse(new_token)[0].key_id == new_key.key_id == "site-a#2"
    assert EnvelopeHeader.parse(old_token)[0].key_id == "site-a#1"
    assert open_envelope(ring, old_token, now=NOW) == COMMAND
    assert open_envelope(ring, new_token, now=NOW) == COMMAND

    retired = ring.retire_inactive("site-a", now=NOW)
    assert [key.key_id for key in retired] == ["site-a#1"]
    with pytest.raises(CryptoError, match="retired") as caught:
        open_envelope(ring, old_token, now=NOW)
    assert caught.value.reason == REASON_RETIRED_KEY
    assert open_envelope(ring, new_token, now=NOW) == COMMAND


def test_retiring_the_active_key_stops_sealing_for_that_site():
    ring = ring_with()
    ring.retire("site-a#1", now=NOW)
    with pytest.raises(CryptoError) as caught:
        sealed(ring)
    assert caught.value.reason == REASON_NO_ACTIVE_KEY


def test_sites_have_separate_keys_and_a_token_names_its_site():
    ring = ring_with()
    ring.rotate("site-b", now=NOW)
    token = sealed(ring, site="site-b")
    assert open_envelope(ring, token, now=NOW, site="site-b") == COMMAND
    with pytest.raises(CryptoError) as caught:
        open_envelope(ring, token, now=NOW, site="site-a")
    assert caught.value.reason == REASON_SITE_MISMATCH


def test_a_key_of_one_site_cannot_command_another_site():
    # A forger holding site A's key builds a correctly tagged token that
    # claims site B: the key's own site must match the header's.
    material = bytes(32)
    ring = KeyRing()
    ring.add_key(EnvelopeKey("a-key", "site-a", AES_GCM, material, NOW))
    nonce = bytes(12)
    header = EnvelopeHeader(AES_GCM, "a-key", "site-b", nonce, DEADLINE, "forged").to_bytes()
    ciphertext, tag = aes_gcm_encrypt(material, nonce, canonical_json(COMMAND), header)
    with pytest.raises(CryptoError) as caught:
        open_envelope(ring, header + ciphertext + tag, now=NOW)
    assert caught.value.reason == REASON_SITE_MISMATCH


def test_key_ring_survives_storage_and_never_shows_its_keys():
    ring = ring_with()
    ring.rotate("site-a", AES_CMAC, now=NOW)
    ring.rotate("site-b", TDES_CBC, legacy=True, now=NOW)
    tokens = [sealed(ring, site="site-a"), sealed(ring, site="site-b")]
    stored = json.loads(json.dumps(ring.to_dict()))
    reloaded = KeyRing.from_dict(stored)
    for token in tokens:
        assert open_envelope(reloaded, token, now=NOW) == COMMAND
    assert reloaded.active_key("site-a").key_id == "site-a#2"

    text = repr(ring) + repr(ring.keys())
    for key in ring.keys():
        for secret in (key.to_dict()["material"], key.material.hex(), repr(key.material)):
            assert secret not in text
    assert "<hidden>" in repr(ring.keys()[0])


def test_stored_key_material_may_be_hex():
    stored = EnvelopeKey("k1", "site-a", AES_GCM, bytes(range(32)), NOW).to_dict()
    stored["material"] = bytes(range(32)).hex()
    assert EnvelopeKey.from_dict(stored).material == bytes(range(32))


@pytest.mark.parametrize(
    "change",
    [{"material": "AAAA"}, {"algorithm": "rot13"}, {"created_at": "yesterday"}, {"site": ""}],
)
def test_bad_stored_keys_are_refused_clearly(change):
    stored = EnvelopeKey("k1", "site-a", AES_GCM, bytes(32), NOW).to_dict()
    stored.update(change)
    with pytest.raises(ValidationError):
        EnvelopeKey.from_dict(stored)


# -- 3DES only on explicit legacy ------------------------------------------------------
@pytest.mark.parametrize("algorithm", [TDES_CBC, TDES_CBC_MAC])
def test_3des_is_refused_unless_legacy_is_explicit(algorithm):
    ring = KeyRing()
    with pytest.raises(CryptoError, match="SP 800-131A") as caught:
        ring.rotate("old-site", algorithm, now=NOW)
    assert caught.value.reason == REASON_LEGACY_REFUSED
    assert ring.keys() == []

    stored = ring_with(algorithm, site="old-site", legacy=True).keys()[0].to_dict()
    stored["legacy"] = False
    with pytest.raises(CryptoError):
        EnvelopeKey.from_dict(stored)


def test_legacy_site_keeps_3des_on_rotation_but_a_new_site_gets_aes_gcm():
    ring = ring_with(TDES_CBC_MAC, site="old-site", legacy=True)
    assert ring.rotate("old-site", now=NOW).algorithm == TDES_CBC_MAC
    assert ring.rotate("new-site", now=NOW).algorithm == AES_GCM


# -- deadline and replay -----------------------------------------------------------------
def test_deadline_is_inclusive_and_a_late_token_is_refused():
    ring = ring_with()
    token = sealed(ring)
    assert open_envelope(ring, token, now=DEADLINE) == COMMAND
    late = DEADLINE + datetime.timedelta(microseconds=1)
    with pytest.raises(CryptoError) as caught:
        open_envelope(ring, token, now=late)
    assert caught.value.reason == REASON_EXPIRED


def test_deadline_keeps_its_instant_across_time_zones():
    ring = ring_with()
    shanghai = datetime.timezone(datetime.timedelta(hours=8))
    token = sealed(ring, deadline=DEADLINE.astimezone(shanghai))
    assert unseal(ring, token, now=NOW).header.deadline == DEADLINE


def test_naive_times_and_past_deadlines_are_refused_before_sealing():
    ring = ring_with()
    with pytest.raises(ValidationError, match="timezone"):
        sealed(ring, deadline=DEADLINE.replace(tzinfo=None))
    with pytest.raises(ValidationError, match="not after"):
        seal(ring, "site-a", COMMAND, idempotency_key="k", deadline=NOW, now=NOW)
    with pytest.raises(ValidationError, match="timezone"):
        open_envelope(ring, sealed(ring), now=NOW.replace(tzinfo=None))


def test_replay_guard_refuses_the_second_opening():
    ring, guard = ring_with(), ReplayGuard()
    token = sealed(ring)
    assert open_envelope(ring, token, now=NOW, replay_guard=guard) == COMMAND
    with pytest.raises(CryptoError) as caught:
        open_envelope(ring, token, now=NOW, replay_guard=guard)
    assert caught.value.reason == REASON_REPLAY
    # a re-sealed copy with the same idempotency key is the same command
    with pytest.raises(CryptoError):
        open_envelope(ring, sealed(ring), now=NOW, replay_guard=guard)
    assert open_envelope(ring, sealed(ring, key="cmd-2"), now=NOW, replay_guard=guard)


def test_replay_guard_forgets_keys_after_their_deadline_and_on_request():
    guard = ReplayGuard()
    guard.check_and_remember("a", DEADLINE, now=NOW)
    guard.check_and_remember("b", DEADLINE + datetime.timedelta(hours=1), now=NOW)
    assert len(guard) == 2
    guard.check("c", now=DEADLINE + datetime.timedelta(seconds=1))
    assert "a" not in guard and "b" in guard
    guard.forget("b")
    guard.check_and_remember("b", DEADLINE, now=NOW)  # a retry after a sure failure


def test_crypto_error_is_a_prepaid_energy_error():
    assert issubclass(CryptoError, PrepaidEnergyError)

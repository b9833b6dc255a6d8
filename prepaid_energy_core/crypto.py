"""Secure command envelope: commands sealed in Odoo, opened by the field agent or meter.

A command (trip, close, push credit, push price...) leaves Odoo's queue as a
sealed token. The agent that opens it knows the command is authentic, meant
for its site, still within its deadline and not a replay.

Token layout (all of the header is authenticated)::

    version(1) algorithm(1) key_id(1+n) site(1+n) nonce(1+n)
    deadline(8, signed µs since 1970-01-01 UTC) idempotency_key(1+n)
    body: ciphertext-or-plaintext || tag

``(1+n)`` is a length byte followed by n bytes (UTF-8 for text). The payload is
the canonical JSON of the command (sorted keys, no spaces, Decimal as an exact
JSON number, floats refused).

Algorithms:

- ``aes-gcm`` (default): AES-256-GCM, 96-bit random nonce, header as
  associated data, 128-bit tag.
- ``aes-cmac``: plaintext payload with an AES-CMAC tag over header + payload,
  for meters that take plaintext commands with a MAC.
- ``3des-cbc-mac`` / ``3des-cbc``: legacy only. NIST SP 800-131A Rev. 2
  (March 2019), §2, disallows TDEA (3DES) for applying cryptographic
  protection after 31 December 2023; a key of these algorithms can only be
  made or loaded with an explicit ``legacy=True``, which a meter profile sets
  only for a meter that demands it.
"""

import base64
import datetime
import heapq
import hmac
import json
import re
import threading
from decimal import Decimal

from Crypto.Cipher import AES, DES3
from Crypto.Hash import CMAC
from Crypto.Random import get_random_bytes
from Crypto.Util.Padding import pad, unpad

from .errors import PrepaidEnergyError, ValidationError

ENVELOPE_VERSION = 1

AES_GCM = "aes-gcm"
AES_CMAC = "aes-cmac"
TDES_CBC_MAC = "3des-cbc-mac"
TDES_CBC = "3des-cbc"
ALGORITHMS = (AES_GCM, AES_CMAC, TDES_CBC_MAC, TDES_CBC)
LEGACY_ALGORITHMS = (TDES_CBC_MAC, TDES_CBC)

_ALGORITHM_IDS = {AES_GCM: 1, AES_CMAC: 2, TDES_CBC_MAC: 3, TDES_CBC: 4}
_ALGORITHM_BY_ID = {number: name for name, number in _ALGORITHM_IDS.items()}
_NONCE_LENGTHS = {AES_GCM: 12, AES_CMAC: 12, TDES_CBC_MAC: 8, TDES_CBC: 8}
_TAG_LENGTHS = {AES_GCM: 16, AES_CMAC: 16, TDES_CBC_MAC: 8, TDES_CBC: 8}
# key sizes accepted when a key is loaded; new keys get the first one
_KEY_LENGTHS = {
    AES_GCM: (32,),
    AES_CMAC: (32, 24, 16),
    TDES_CBC_MAC: (24, 16),
    TDES_CBC: (48,),  # 24-byte encryption key + 24-byte MAC key
}

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_MICROSECOND = datetime.timedelta(microseconds=1)
_MAX_FIELD = 255

# reasons carried by CryptoError.reason, for callers that act on them
REASON_MALFORMED = "malformed"
REASON_AUTHENTICATION = "authentication"
REASON_UNKNOWN_KEY = "unknown_key"
REASON_RETIRED_KEY = "retired_key"
REASON_NO_ACTIVE_KEY = "no_active_key"
REASON_SITE_MISMATCH = "site_mismatch"
REASON_ALGORITHM_MISMATCH = "algorithm_mismatch"
REASON_EXPIRED = "expired"
REASON_REPLAY = "replay"
REASON_LEGACY_REFUSED = "legacy_refused"


class CryptoError(PrepaidEnergyError):
    """A token or key cannot be trusted or used; ``reason`` says why in one word."""

    def __init__(self, message, reason=None):
        super().__init__(message)
        self.reason = reason


# -- primitives (thin wrappers, tested against published vectors) ------------
def aes_gcm_encrypt(key, nonce, plaintext, associated_data=b""):
    """AES-GCM with a 128-bit tag; returns ``(ciphertext, tag)``."""
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=16)
    cipher.update(associated_data)
    return cipher.encrypt_and_digest(plaintext)


def aes_gcm_decrypt(key, nonce, ciphertext, tag, associated_data=b""):
    """Inverse of :func:`aes_gcm_encrypt`; CryptoError if the tag does not match."""
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=16)
    cipher.update(associated_data)
    try:
        return cipher.decrypt_and_verify(ciphertext, tag)
    except ValueError:
        raise CryptoError(
            "authentication failed: the token was altered or sealed with another key",
            REASON_AUTHENTICATION,
        ) from None


def aes_cmac(key, data):
    """AES-CMAC (NIST SP 800-38B, RFC 4493 for 128-bit keys): the 16-byte tag."""
    return CMAC.new(key, msg=data, ciphermod=AES).digest()


def tdes_cbc_mac(key, data):
    """Legacy 3DES CBC-MAC (8 bytes) with the message length prepended.

    Plain CBC-MAC is forgeable across messages of different lengths; putting
    the length in the first block (ISO/IEC 9797-1 style) closes that hole.
    Padding is ISO/IEC 9797-1 method 2 (0x80 then zeros).
    """
    message = len(data).to_bytes(8, "big") + data
    message = pad(message, DES3.block_size, style="iso7816")
    cipher = DES3.new(key, DES3.MODE_CBC, iv=bytes(DES3.block_size))
    return cipher.encrypt(message)[-DES3.block_size :]


def tdes_cbc_encrypt(key, iv, plaintext):
    """Legacy 3DES-CBC with PKCS#7 padding."""
    return DES3.new(key, DES3.MODE_CBC, iv=iv).encrypt(pad(plaintext, DES3.block_size))


def tdes_cbc_decrypt(key, iv, ciphertext):
    """Inverse of :func:`tdes_cbc_encrypt`."""
    try:
        return unpad(DES3.new(key, DES3.MODE_CBC, iv=iv).decrypt(ciphertext), DES3.block_size)
    except ValueError:
        raise CryptoError("3DES payload does not decrypt", REASON_MALFORMED) from None


def _new_key_material(algorithm):
    if algorithm == TDES_CBC:
        return _new_tdes_key() + _new_tdes_key()
    if algorithm == TDES_CBC_MAC:
        return _new_tdes_key()
    return get_random_bytes(_KEY_LENGTHS[algorithm][0])


def _new_tdes_key():
    while True:
        try:
            return DES3.adjust_key_parity(get_random_bytes(24))
        except ValueError:  # degenerates to single DES: draw again
            continue


# -- keys -------------------------------------------------------------------
def _check_algorithm(algorithm, legacy):
    if algorithm not in ALGORITHMS:
        raise ValidationError(f"unknown algorithm {algorithm!r}; expected one of {ALGORITHMS}")
    if algorithm in LEGACY_ALGORITHMS and not legacy:
        raise CryptoError(
            f"{algorithm} refused: 3DES is disallowed for new protection since 2024 "
            "(NIST SP 800-131A Rev. 2); use aes-gcm or aes-cmac, or set legacy=True only "
            "in the profile of a meter that demands 3DES",
            REASON_LEGACY_REFUSED,
        )


def _check_text(value, what, max_bytes=_MAX_FIELD):
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{what} must be a non-empty string, got {value!r}")
    if len(value.encode("utf-8")) > max_bytes:
        raise ValidationError(f"{what} is longer than {max_bytes} bytes: {value!r}")
    return value


def _aware(when, what):
    if not isinstance(when, datetime.datetime):
        raise ValidationError(f"{what} must be a datetime, got {type(when).__name__}")
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValidationError(
            f"{what} must be timezone-aware (a naive time is ambiguous between Odoo's UTC "
            f"and the agent's local time), got {when.isoformat()}"
        )
    return when


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


class EnvelopeKey:
    """One secret key of one site. ``repr`` never shows the key material."""

    __slots__ = ("algorithm", "created_at", "key_id", "legacy", "material", "retired_at", "site")

    def __init__(
        self, key_id, site, algorithm, material, created_at, retired_at=None, legacy=False
    ):
        self.key_id = _check_text(key_id, "key id")
        self.site = _check_text(site, "site")
        _check_algorithm(algorithm, legacy)
        if not isinstance(material, bytes) or len(material) not in _KEY_LENGTHS[algorithm]:
            raise ValidationError(
                f"key {key_id}: {algorithm} needs a key of {_KEY_LENGTHS[algorithm]} bytes"
            )
        self.algorithm = algorithm
        self.material = material
        self.created_at = _aware(created_at, "key creation time")
        self.retired_at = None if retired_at is None else _aware(retired_at, "key retirement")
        self.legacy = bool(legacy) and algorithm in LEGACY_ALGORITHMS

    @property
    def retired(self):
        return self.retired_at is not None

    def to_dict(self):
        """Storable form; the material is base64 (store it encrypted at rest)."""
        return {
            "key_id": self.key_id,
            "site": self.site,
            "algorithm": self.algorithm,
            "material": base64.b64encode(self.material).decode("ascii"),
            "created_at": self.created_at.isoformat(),
            "retired_at": None if self.retired_at is None else self.retired_at.isoformat(),
            "legacy": self.legacy,
        }

    @classmethod
    def from_dict(cls, data):
        """Rebuild a key from :meth:`to_dict`; the material may be base64 or hex."""
        try:
            return cls(
                key_id=data["key_id"],
                site=data["site"],
                algorithm=data["algorithm"],
                material=_decode_material(data["material"]),
                created_at=datetime.datetime.fromisoformat(data["created_at"]),
                retired_at=(
                    datetime.datetime.fromisoformat(data["retired_at"])
                    if data.get("retired_at")
                    else None
                ),
                legacy=data.get("legacy", False),
            )
        except KeyError as missing:
            raise ValidationError(f"stored key lacks the field {missing}") from None
        except (TypeError, ValueError) as bad:
            if isinstance(bad, ValidationError):
                raise
            raise ValidationError(f"stored key {data.get('key_id')!r} is invalid: {bad}") from None

    def __repr__(self):
        state = "retired" if self.retired else "usable"
        return (
            f"EnvelopeKey(key_id={self.key_id!r}, site={self.site!r}, "
            f"algorithm={self.algorithm!r}, {state}, material=<hidden>)"
        )


_HEX = re.compile(r"\A(?:[0-9a-fA-F]{2})+\Z")


def _decode_material(text):
    if not isinstance(text, str):
        raise ValidationError("key material must be base64 or hex text")
    if _HEX.match(text) and len(text) // 2 in (16, 24, 32, 48):
        return bytes.fromhex(text)
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise ValidationError("key material is neither hex nor base64") from None


class KeyRing:
    """Keys of many sites: one active key per site seals, older ones still open.

    ``rotate(site)`` makes a new active key; tokens sealed with the previous
    key keep opening until that key is retired with :meth:`retire`.
    """

    def __init__(self):
        self._keys = {}
        self._active = {}
        self._lock = threading.Lock()

    def rotate(self, site, algorithm=None, *, legacy=False, now=None):
        """Create and activate a new key for ``site``; return it.

        ``algorithm`` defaults to the site's current one (aes-gcm for a new
        site). 3DES algorithms need ``legacy=True``.
        """
        _check_text(site, "site")
        with self._lock:
            current = self._keys.get(self._active.get(site))
            if algorithm is None:
                algorithm = current.algorithm if current else AES_GCM
                legacy = legacy or bool(current and current.legacy)
            _check_algorithm(algorithm, legacy)
            key = EnvelopeKey(
                self._next_key_id(site),
                site,
                algorithm,
                _new_key_material(algorithm),
                now or _utcnow(),
                legacy=legacy,
            )
            self._keys[key.key_id] = key
            self._active[site] = key.key_id
            return key

    def add_key(self, key, *, activate=True):
        """Add an existing key (for instance the fixed key of a legacy meter)."""
        if not isinstance(key, EnvelopeKey):
            raise ValidationError(f"expected an EnvelopeKey, got {type(key).__name__}")
        with self._lock:
            if key.key_id in self._keys:
                raise ValidationError(f"key id {key.key_id!r} is already in the key ring")
            self._keys[key.key_id] = key
            if activate and not key.retired:
                self._active[key.site] = key.key_id
        return key

    def _next_key_id(self, site):
        number = sum(1 for key in self._keys.values() if key.site == site) + 1
        while f"{site}#{number}" in self._keys:
            number += 1
        return _check_text(f"{site}#{number}", "key id")

    def get(self, key_id):
        """The key of that id, retired or not; CryptoError if unknown."""
        key = self._keys.get(key_id)
        if key is None:
            raise CryptoError(f"unknown key id {key_id!r}", REASON_UNKNOWN_KEY)
        return key

    def active_key(self, site):
        """The key that seals for ``site`` now."""
        key_id = self._active.get(site)
        if key_id is None:
            raise CryptoError(
                f"site {site!r} has no active key: rotate() one first", REASON_NO_ACTIVE_KEY
            )
        return self._keys[key_id]

    def retire(self, key_id, now=None):
        """Stop accepting ``key_id``; retiring the active key leaves the site without one."""
        with self._lock:
            key = self.get(key_id)
            if not key.retired:
                key.retired_at = now or _utcnow()
            if self._active.get(key.site) == key_id:
                del self._active[key.site]
            return key

    def retire_inactive(self, site, now=None):
        """Retire every key of ``site`` but the active one; return those retired."""
        active = self._active.get(site)
        stale = [
            key
            for key in self._keys.values()
            if key.site == site and key.key_id != active and not key.retired
        ]
        return [self.retire(key.key_id, now) for key in stale]

    def keys(self, site=None):
        """All keys, or those of one site, oldest first."""
        return [key for key in self._keys.values() if site is None or key.site == site]

    def to_dict(self):
        """Storable form (keys in base64): keep it in an encrypted store."""
        return {
            "version": 1,
            "keys": [key.to_dict() for key in self._keys.values()],
            "active": dict(self._active),
        }

    @classmethod
    def from_dict(cls, data):
        """Rebuild a key ring from :meth:`to_dict` (material as base64 or hex)."""
        if not isinstance(data, dict) or data.get("version") != 1:
            raise ValidationError("stored key ring must be a dict with version 1")
        ring = cls()
        for stored in data.get("keys", ()):
            ring.add_key(EnvelopeKey.from_dict(stored), activate=False)
        for site, key_id in data.get("active", {}).items():
            key = ring.get(key_id)
            if key.site != site or key.retired:
                raise ValidationError(f"active key {key_id!r} of {site!r} is not usable there")
            ring._active[site] = key_id
        return ring

    def __repr__(self):
        return f"KeyRing(sites={sorted(self._active)!r}, keys={len(self._keys)})"


# -- canonical JSON -----------------------------------------------------------
def canonical_json(command):
    """Deterministic UTF-8 JSON of a command dict.

    Keys sorted, no whitespace, Decimal written as its exact number, floats
    refused (a float amount is already wrong), only JSON-native types.
    """
    if not isinstance(command, dict):
        raise ValidationError(f"a command must be a dict, got {type(command).__name__}")
    return _encode(command, "command").encode("utf-8")


def _encode(value, path):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError(f"{path} is not a finite number: {value}")
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        raise ValidationError(f"{path} is a float ({value!r}); pass Decimal, int or str")
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ValidationError(f"{path} has a non-text key {key!r}")
        items = (
            f"{json.dumps(key, ensure_ascii=False)}:{_encode(value[key], f'{path}.{key}')}"
            for key in sorted(value)
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(item, f"{path}[{i}]") for i, item in enumerate(value)) + "]"
    raise ValidationError(
        f"{path} is a {type(value).__name__}; use str, int, Decimal, bool, list or dict"
    )


def _refuse_constant(name):
    raise CryptoError(f"payload holds the non-number {name}", REASON_MALFORMED)


def _decode_command(payload):
    try:
        command = json.loads(
            payload.decode("utf-8"), parse_float=Decimal, parse_constant=_refuse_constant
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as bad:
        raise CryptoError(f"payload is not canonical JSON: {bad}", REASON_MALFORMED) from None
    if not isinstance(command, dict):
        raise CryptoError("payload is not a command object", REASON_MALFORMED)
    return command


# -- header -------------------------------------------------------------------
class EnvelopeHeader:
    """The authenticated fields in front of every token."""

    __slots__ = ("algorithm", "deadline", "idempotency_key", "key_id", "nonce", "site", "version")

    def __init__(self, algorithm, key_id, site, nonce, deadline, idempotency_key, version=1):
        self.version = version
        self.algorithm = algorithm
        self.key_id = key_id
        self.site = site
        self.nonce = nonce
        self.deadline = deadline
        self.idempotency_key = idempotency_key

    def to_bytes(self):
        microseconds = (self.deadline - _EPOCH) // _MICROSECOND
        return b"".join(
            (
                bytes((self.version, _ALGORITHM_IDS[self.algorithm])),
                _field(self.key_id.encode("utf-8")),
                _field(self.site.encode("utf-8")),
                _field(self.nonce),
                microseconds.to_bytes(8, "big", signed=True),
                _field(self.idempotency_key.encode("utf-8")),
            )
        )

    @classmethod
    def parse(cls, token):
        """Return ``(header, header_length)``; CryptoError on a malformed token."""
        reader = _Reader(token)
        version = reader.byte("version")
        if version != ENVELOPE_VERSION:
            raise CryptoError(f"unsupported envelope version {version}", REASON_MALFORMED)
        algorithm_id = reader.byte("algorithm")
        algorithm = _ALGORITHM_BY_ID.get(algorithm_id)
        if algorithm is None:
            raise CryptoError(f"unknown algorithm id {algorithm_id}", REASON_MALFORMED)
        key_id = reader.text("key id")
        site = reader.text("site")
        nonce = reader.field("nonce")
        if len(nonce) != _NONCE_LENGTHS[algorithm]:
            raise CryptoError(f"nonce of {len(nonce)} bytes for {algorithm}", REASON_MALFORMED)
        microseconds = int.from_bytes(reader.take(8, "deadline"), "big", signed=True)
        try:
            deadline = _EPOCH + microseconds * _MICROSECOND
        except OverflowError:
            raise CryptoError("deadline out of range", REASON_MALFORMED) from None
        idempotency_key = reader.text("idempotency key")
        header = cls(algorithm, key_id, site, nonce, deadline, idempotency_key, version)
        return header, reader.position


def _field(data):
    if len(data) > _MAX_FIELD:
        raise ValidationError(f"header field longer than {_MAX_FIELD} bytes")
    return bytes((len(data),)) + data


class _Reader:
    def __init__(self, data):
        self.data = data
        self.position = 0

    def take(self, count, what):
        end = self.position + count
        if end > len(self.data):
            raise CryptoError(f"token is truncated in its {what}", REASON_MALFORMED)
        chunk = self.data[self.position : end]
        self.position = end
        return chunk

    def byte(self, what):
        return self.take(1, what)[0]

    def field(self, what):
        return self.take(self.byte(what), what)

    def text(self, what):
        raw = self.field(what)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CryptoError(f"{what} is not UTF-8", REASON_MALFORMED) from None
        if not text:
            raise CryptoError(f"{what} is empty", REASON_MALFORMED)
        return text


# -- seal / open ----------------------------------------------------------------
def _protect(key, header_bytes, nonce, payload):
    material = key.material
    if key.algorithm == AES_GCM:
        ciphertext, tag = aes_gcm_encrypt(material, nonce, payload, header_bytes)
        return ciphertext + tag
    if key.algorithm == AES_CMAC:
        return payload + aes_cmac(material, header_bytes + payload)
    if key.algorithm == TDES_CBC_MAC:
        return payload + tdes_cbc_mac(material, header_bytes + payload)
    ciphertext = tdes_cbc_encrypt(material[:24], nonce, payload)
    return ciphertext + tdes_cbc_mac(material[24:], header_bytes + ciphertext)


def _unprotect(key, header_bytes, nonce, body):
    tag_length = _TAG_LENGTHS[key.algorithm]
    if len(body) < tag_length:
        raise CryptoError("token is shorter than its tag", REASON_MALFORMED)
    data, tag = body[:-tag_length], body[-tag_length:]
    material = key.material
    if key.algorithm == AES_GCM:
        return aes_gcm_decrypt(material, nonce, data, tag, header_bytes)
    if key.algorithm == AES_CMAC:
        expected = aes_cmac(material, header_bytes + data)
    elif key.algorithm == TDES_CBC_MAC:
        expected = tdes_cbc_mac(material, header_bytes + data)
    else:
        expected = tdes_cbc_mac(material[24:], header_bytes + data)
    _verify_tag(expected, tag)
    if key.algorithm == TDES_CBC:
        return tdes_cbc_decrypt(material[:24], nonce, data)
    return data


def _verify_tag(expected, received):
    # constant-time comparison: timing never tells how many tag bytes were right
    if not hmac.compare_digest(expected, received):
        raise CryptoError(
            "authentication failed: the token was altered or sealed with another key",
            REASON_AUTHENTICATION,
        )


def seal(keyring, site, command, *, idempotency_key, deadline, now=None):
    """Seal ``command`` for ``site`` with the site's active key; return the token.

    ``deadline`` (timezone-aware) is when the command stops being valid: a
    late duplicate cannot act. With ``now``, a deadline already passed is refused.
    """
    _check_text(site, "site")
    _check_text(idempotency_key, "idempotency key")
    _aware(deadline, "deadline")
    if now is not None and _aware(now, "now") >= deadline:
        raise ValidationError(f"deadline {deadline.isoformat()} is not after {now.isoformat()}")
    payload = canonical_json(command)
    key = keyring.active_key(site)
    _check_algorithm(key.algorithm, key.legacy)
    nonce = get_random_bytes(_NONCE_LENGTHS[key.algorithm])
    header = EnvelopeHeader(key.algorithm, key.key_id, site, nonce, deadline, idempotency_key)
    header_bytes = header.to_bytes()
    return header_bytes + _protect(key, header_bytes, nonce, payload)


class OpenedEnvelope:
    """A verified command with its header fields."""

    __slots__ = ("command", "header")

    def __init__(self, header, command):
        self.header = header
        self.command = command

    def __repr__(self):
        return (
            f"OpenedEnvelope(site={self.header.site!r}, key_id={self.header.key_id!r}, "
            f"idempotency_key={self.header.idempotency_key!r})"
        )


def unseal(keyring, token, *, now, site=None, replay_guard=None):
    """Verify and open ``token``; return an :class:`OpenedEnvelope`.

    Checks in order: well-formed header, key known and not retired, key of the
    same algorithm and site as the header, authentication tag, ``site`` (the
    opener's own, when given), deadline not passed at ``now``, and, with a
    ``replay_guard``, that the idempotency key was not opened before.
    Raises CryptoError (``reason`` tells which check failed).
    """
    if not isinstance(token, (bytes, bytearray)):
        raise ValidationError(f"token must be bytes, got {type(token).__name__}")
    _aware(now, "now")
    token = bytes(token)
    header, header_length = EnvelopeHeader.parse(token)
    key = _opening_key(keyring, header)
    body = token[header_length:]
    payload = _unprotect(key, token[:header_length], header.nonce, body)
    if site is not None and header.site != site:
        raise CryptoError(f"token is for site {header.site!r}, not {site!r}", REASON_SITE_MISMATCH)
    if now > header.deadline:
        raise CryptoError(
            f"command {header.idempotency_key!r} expired at {header.deadline.isoformat()}",
            REASON_EXPIRED,
        )
    command = _decode_command(payload)
    if replay_guard is not None:
        replay_guard.check_and_remember(header.idempotency_key, header.deadline, now=now)
    return OpenedEnvelope(header, command)


def _opening_key(keyring, header):
    key = keyring.get(header.key_id)
    if key.retired:
        raise CryptoError(
            f"key {key.key_id!r} was retired at {key.retired_at.isoformat()}: token refused",
            REASON_RETIRED_KEY,
        )
    if key.algorithm != header.algorithm:
        raise CryptoError(
            f"token claims {header.algorithm} but key {key.key_id!r} is {key.algorithm}",
            REASON_ALGORITHM_MISMATCH,
        )
    _check_algorithm(key.algorithm, key.legacy)
    if key.site != header.site:
        raise CryptoError(
            f"token claims site {header.site!r} but key {key.key_id!r} belongs to {key.site!r}",
            REASON_SITE_MISMATCH,
        )
    return key


def open_envelope(keyring, token, *, now, site=None, replay_guard=None):
    """Verify ``token`` as :func:`unseal` does and return the command dict.

    JSON numbers with a fraction come back as Decimal, whole numbers as int.
    """
    return unseal(keyring, token, now=now, site=site, replay_guard=replay_guard).command


# -- replay protection ------------------------------------------------------------
class ReplayGuard:
    """Remembers idempotency keys until their deadline, so no command acts twice.

    After its deadline a token is refused as expired anyway, so the guard can
    forget it then: memory stays bounded by the commands still in flight.
    """

    def __init__(self):
        self._deadlines = {}
        self._expiry = []  # heap of (deadline, idempotency key)
        self._lock = threading.Lock()

    def check(self, idempotency_key, *, now):
        """Raise CryptoError if ``idempotency_key`` was already remembered."""
        with self._lock:
            self._forget_expired(_aware(now, "now"))
            self._refuse_seen(idempotency_key)

    def remember(self, idempotency_key, deadline):
        """Remember ``idempotency_key`` until ``deadline``."""
        _aware(deadline, "deadline")
        with self._lock:
            self._store(idempotency_key, deadline)

    def check_and_remember(self, idempotency_key, deadline, *, now):
        """Atomically refuse a seen key, or remember a new one until ``deadline``."""
        _aware(deadline, "deadline")
        with self._lock:
            self._forget_expired(_aware(now, "now"))
            self._refuse_seen(idempotency_key)
            self._store(idempotency_key, deadline)

    def forget(self, idempotency_key):
        """Drop a key whose command surely did not act, so a retry may run."""
        with self._lock:
            self._deadlines.pop(idempotency_key, None)

    def _refuse_seen(self, idempotency_key):
        if idempotency_key in self._deadlines:
            raise CryptoError(
                f"command {idempotency_key!r} was already opened: replay refused", REASON_REPLAY
            )

    def _store(self, idempotency_key, deadline):
        self._deadlines[idempotency_key] = max(
            deadline, self._deadlines.get(idempotency_key, deadline)
        )
        heapq.heappush(self._expiry, (self._deadlines[idempotency_key], idempotency_key))

    def _forget_expired(self, now):
        while self._expiry and self._expiry[0][0] < now:
            deadline, key = heapq.heappop(self._expiry)
            if self._deadlines.get(key) == deadline:
                del self._deadlines[key]

    def __contains__(self, idempotency_key):
        return idempotency_key in self._deadlines

    def __len__(self):
        return len(self._deadlines)

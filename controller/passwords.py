"""Password hashing with scrypt (a memory-hard KDF from the standard library), and the digest
under which tokens and session keys are stored."""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
import string

_N, _R, _P = 2 ** 14, 8, 1


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "scrypt${}${}${}${}${}".format(_N, _R, _P, base64.b64encode(salt).decode(),
                                          base64.b64encode(digest).decode())


def verify_password(password: str, encoded: str | None) -> bool:
    """Constant-time check of ``password`` against a stored hash (False for no hash)."""
    if not encoded or not encoded.startswith("scrypt$"):
        return False
    try:
        _, n, r, p, salt, digest = encoded.split("$")
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                             p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


@functools.lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return hash_password(base64.b64encode(os.urandom(18)).decode())


def verify_missing(password: str) -> bool:
    """Spend what :func:`verify_password` spends, for a user that does not exist or has no
    usable hash, so the answer's timing does not tell which usernames exist.  Always False."""
    verify_password(password, _decoy_hash())
    return False


_TOKEN_CHARS = string.ascii_letters + string.digits


def new_token(length: int = 30) -> str:
    """A new bearer or refresh token as AWX makes them (oauthlib's ``generate_token``): 30
    letters and digits, about 178 bits.  Only those: a token starting with ``-`` (as URL-safe
    base64 may) is taken for an option by the awx CLI's ``--conf.token <token>``."""
    return "".join(secrets.choice(_TOKEN_CHARS) for _ in range(length))


def hash_token(token: str) -> str:
    """The stored form of a bearer token or session key: its SHA-256 hex digest (the tokens are
    long random strings, so no salt or KDF is needed to make the digest useless to a thief)."""
    return hashlib.sha256(token.encode()).hexdigest()

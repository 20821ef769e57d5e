"""Encryption of secret values at rest (Fernet: AES-128-CBC + HMAC-SHA256).

The key lives in ``<data dir>/secret.key``, created on first start with mode 0600.  Stored
ciphertexts carry AWX's ``$encrypted$`` prefix so anything that leaks them to output can be
recognised and masked.  Nothing here logs a value.
"""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "$encrypted$UTF8$AESCBC$"


class SecretError(Exception):
    pass


class Vault:
    """Encrypts and decrypts secret strings with the data directory's key."""

    def __init__(self, key_path: Path) -> None:
        self.key_path = Path(key_path)
        self._fernet = Fernet(self._load_or_create())

    def _load_or_create(self) -> bytes:
        try:
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self.key_path.read_bytes().strip()
        key = Fernet.generate_key()
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key

    @staticmethod
    def is_encrypted(value: object) -> bool:
        return isinstance(value, str) and value.startswith(PREFIX)

    def encrypt(self, plaintext: str) -> str:
        if self.is_encrypted(plaintext):
            return plaintext
        return PREFIX + self._fernet.encrypt(str(plaintext).encode()).decode()

    def decrypt(self, value: str) -> str:
        if not self.is_encrypted(value):
            return value
        try:
            return self._fernet.decrypt(value[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise SecretError("a stored secret cannot be decrypted with this data directory's key") from None

"""Pseudonymous customer ids: a keyed hash (HMAC-SHA256) with a secret only the user holds.

The same id and key always give the same pseudonym, so runs saved at different times still join; without the key
a pseudonym cannot be linked back to a customer (and no dictionary of likely ids can be hashed to find it). The
user reverses it by hashing their own customer list with the key (:meth:`Pseudonymizer.mapping`) and joining.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from segmentation.errors import ConfigError

KEY_ENV = "SEGMENT_PSEUDONYM_KEY"
"""Environment variable holding the key itself (at least 32 hex digits or 16 characters)."""
KEY_FILE_ENV = "SEGMENT_PSEUDONYM_KEY_FILE"
"""Environment variable naming a file that holds the key (first line), for deployments with a secret store."""
MIN_KEY_BYTES = 16
PREFIX = "p_"
"""Pseudonyms start with this, so they are never mistaken for (or collide with) real ids."""


class Pseudonymizer:
    """Customer id -> ``p_`` + 32 hex digits of HMAC-SHA256(key, id) (128 bits: no collisions in practice)."""

    def __init__(self, key: str | bytes) -> None:
        secret = key.encode() if isinstance(key, str) else bytes(key)
        if len(secret) < MIN_KEY_BYTES:
            raise ConfigError(
                f"the pseudonym key has {len(secret)} bytes, at least {MIN_KEY_BYTES} are needed; "
                f"make one with `python -c 'import secrets; print(secrets.token_hex(32))'`"
            )
        self._key = secret

    def __repr__(self) -> str:  # never shows the key
        return f"Pseudonymizer(key_id={self.key_id!r})"

    @property
    def key_id(self) -> str:
        """A short fingerprint of the key, saved with pseudonymised runs to tell which key made them."""
        return hmac.new(self._key, b"segmentation pseudonym key id", hashlib.sha256).hexdigest()[:12]

    def pseudonym(self, customer_id: str) -> str:
        return PREFIX + hmac.new(self._key, str(customer_id).encode(), hashlib.sha256).hexdigest()[:32]

    def pseudonymize(self, customer_ids: Iterable[str]) -> list[str]:
        return [self.pseudonym(c) for c in customer_ids]

    def mapping(self, customer_ids: Iterable[str]) -> pd.DataFrame:
        """``customer_id`` and ``pseudonym`` of each id: the table the key holder keeps to re-identify."""
        ids = [str(c) for c in customer_ids]
        return pd.DataFrame({"customer_id": ids, "pseudonym": self.pseudonymize(ids)})

    def reidentify(self, pseudonyms: Iterable[str], customer_ids: Iterable[str]) -> pd.Series:
        """The customer id behind each pseudonym, searched among ``customer_ids`` (missing: not among them)."""
        lookup = self.mapping(customer_ids).set_index("pseudonym")["customer_id"]
        wanted = list(pseudonyms)
        return pd.Series(
            lookup.reindex(wanted).to_numpy(), index=pd.Index(wanted, name="pseudonym"), name="customer_id"
        )

    @staticmethod
    def new_key() -> str:
        """A fresh random key (64 hex digits) for the user to keep in a secret store."""
        return secrets.token_hex(32)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Pseudonymizer | None:
        """The pseudonymiser of :data:`KEY_ENV` or :data:`KEY_FILE_ENV`; ``None`` when neither is set."""
        if environ.get(KEY_ENV):
            return cls(environ[KEY_ENV].strip())
        if environ.get(KEY_FILE_ENV):
            path = Path(environ[KEY_FILE_ENV])
            if not path.is_file():
                raise ConfigError(f"{KEY_FILE_ENV}={path}: no such file; point it at the file that holds the key")
            lines = path.read_text(encoding="utf-8").splitlines()
            return cls(lines[0].strip() if lines else "")
        return None

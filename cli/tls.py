"""The certificate and key `cims serve --ssl-certfile/--ssl-keyfile` is given, checked before
uvicorn starts: each problem is one line naming the option and what to do, not an OpenSSL
traceback (`[SSL] PEM lib`) from a server that has already begun to start."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from cli.output import BadParameter, note

CERT, KEY = "--ssl-certfile", "--ssl-keyfile"


def tls_files(certfile: Path | None, keyfile: Path | None) -> tuple[str | None, str | None]:
    """uvicorn's `ssl_certfile` and `ssl_keyfile`, once the certificate (the first in the
    file, the server's own) and its private key (in `keyfile`, or else in `certfile`) are
    known to load and to belong together; `(None, None)` for plain http."""
    if certfile is None:
        if keyfile is not None:
            raise BadParameter(KEY, f"give the certificate too, with {CERT}")
        return None, None
    cert_pem = _read(CERT, certfile)
    key_flag, key_pem = (KEY, _read(KEY, keyfile)) if keyfile else (CERT, cert_pem)
    try:
        certificate = x509.load_pem_x509_certificates(cert_pem)[0]
    except ValueError:
        raise BadParameter(CERT, f"{certfile} holds no PEM certificate") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:  # encrypted: uvicorn would ask for the passphrase on a terminal
        raise BadParameter(
            key_flag, "the private key is encrypted: give it unencrypted, readable by this user"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        held = keyfile or certfile
        raise BadParameter(key_flag, f"{held} holds no PEM private key") from None
    if _public(key.public_key()) != _public(certificate.public_key()):
        raise BadParameter(f"{CERT}/{KEY}", "the private key is not the certificate's")
    try:  # what uvicorn will do: anything OpenSSL still refuses is refused here
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile, keyfile, password=lambda: b"")
    except ssl.SSLError as exc:
        raise BadParameter(CERT, f"OpenSSL refuses the certificate: {exc.reason}") from None
    expires = certificate.not_valid_after_utc
    if expires <= datetime.now(UTC):
        note(f"warning: the certificate in {certfile} expired on {expires:%Y-%m-%d %H:%M} UTC")
    return str(certfile), None if keyfile is None else str(keyfile)


def _read(flag: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BadParameter(flag, f"no file {path}") from None
    except OSError as exc:
        raise BadParameter(flag, f"cannot read {path}: {exc.strerror}") from None


def _public(key: Any) -> bytes:
    """A public key's SubjectPublicKeyInfo, to compare a certificate's with a private key's."""
    der = serialization.Encoding.DER
    return bytes(key.public_bytes(der, serialization.PublicFormat.SubjectPublicKeyInfo))

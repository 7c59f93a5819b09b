"""certs.py - test certificates made with the cryptography package:
self-signed or CA-issued, any validity window, any names."""

import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class Cert:
    def __init__(self, cert, key):
        self.cert = cert
        self.key = key

    def write(self, dirpath, stem, chain=()):
        """Write STEM.crt (this certificate and then chain) and STEM.key;
        return (cert_path, key_path)."""
        cp = os.path.join(dirpath, stem + ".crt")
        kp = os.path.join(dirpath, stem + ".key")
        with open(cp, "wb") as f:
            for c in (self,) + tuple(chain):
                f.write(c.cert.public_bytes(serialization.Encoding.PEM))
        with open(kp, "wb") as f:
            f.write(self.key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        os.chmod(kp, 0o600)
        return cp, kp


def make(cn, names=(), issuer=None, days_from=-1, days_until=365, ca=False):
    """A certificate for cn with DNS names; signed by issuer (a Cert) or
    by itself; valid from now + days_from to now + days_until."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder()
         .subject_name(subject)
         .issuer_name(issuer.cert.subject if issuer else subject)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now + datetime.timedelta(days=days_from))
         .not_valid_after(now + datetime.timedelta(days=days_until, minutes=5))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(n) for n in names]), critical=False)
    cert = b.sign(issuer.key if issuer else key, hashes.SHA256())
    return Cert(cert, key)

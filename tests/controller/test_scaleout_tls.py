"""Issue 17, broker security: a worker and a job over ``rediss://`` (TLS, server certificate
verified against its CA, a password), the TLS options given in the URL's query as the docs
say.  Real redis-server with ``tls-port`` only (no plaintext port) and a self-signed
certificate made here; a real ``turret worker`` and the controller in this process.
"""
from __future__ import annotations

import datetime
import ipaddress
import subprocess
import time
from pathlib import Path

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from controller import create_app, open_state
from controller.config import Settings
from controller.services.bootstrap import initialize
from tests.controller.conftest import ADMIN_PASSWORD, Client
from tests.support.jobs import LOCAL, launch, make_inventory, make_jt, make_org, make_project, wait_job, wait_until
from tests.support.redis_server import ensure_redis_server, free_port
from tests.support.workers import start_worker, wait_registered

PASSWORD = "tls-broker-pw-7f3a9c"
PLAY = "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=over-tls\n"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@pytest.fixture
def tls_broker(tmp_path):
    """redis-server speaking TLS only, with a password; yields (url, port, ca path)."""
    binary = ensure_redis_server()
    cert, key = self_signed(tmp_path)
    port = free_port()
    proc = subprocess.Popen([binary, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
                             "--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert),
                             "--tls-auth-clients", "no", "--requirepass", PASSWORD, "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"rediss://:{PASSWORD}@127.0.0.1:{port}/0?ssl_cert_reqs=required&ssl_ca_certs={cert}"
    try:
        probe = redis.Redis.from_url(url)
        wait_until(lambda: _pings(probe), 15, "redis-server with TLS")
        probe.close()
        yield url, port, cert
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.mark.slow
def test_worker_and_job_over_tls_with_a_password(tls_broker, tmp_path):
    url, port, _ca = tls_broker
    plain = redis.Redis(host="127.0.0.1", port=port, password=PASSWORD, socket_timeout=2)
    with pytest.raises(redis.ConnectionError):      # the broker speaks TLS only
        plain.ping()
    plain.close()
    worker = start_worker(url, "tls-w", "secure", 1, tmp_path / "tls-w")
    state = open_state(Settings({"DATA_DIR": str(tmp_path / "data"), "BROKER_URL": url}, environ={}))
    try:
        initialize(state, ADMIN_PASSWORD, demo=False)
        admin = Client(create_app(state=state), "admin", ADMIN_PASSWORD)
        wait_registered(url, worker)
        state.start_jobs(workers=1)
        inst = wait_until(lambda: admin.get("/api/v2/instances/?hostname=tls-w").json["results"], 20,
                          "tls-w mirrored")[0]
        assert (inst["node_type"], inst["node_state"]) == ("execution", "ready")
        org = make_org(admin)
        jt = make_jt(admin, make_project(admin, state.settings.data_dir, org, {"p.yml": PLAY}),
                     make_inventory(admin, org, ["h1"], **LOCAL), "p.yml")
        secure = admin.get("/api/v2/instance_groups/?name=secure").json["results"][0]
        assert admin.post(f"/api/v2/job_templates/{jt['id']}/instance_groups/", {"id": secure["id"]}).status_code == 204
        started = time.monotonic()
        done = wait_job(admin, launch(admin, jt)["id"], 90)
        assert (done["status"], done["execution_node"]) == ("successful", "tls-w"), done["job_explanation"]
        assert time.monotonic() - started < 90
        stdout = admin.get(f"/api/v2/jobs/{done['id']}/stdout/?format=txt").get_data(as_text=True)
        assert "over-tls" in stdout
        assert PASSWORD not in worker.output()          # Celery masks it; Turret never prints it
    finally:
        state.stop_jobs()
        worker.stop()
        state.store.close()

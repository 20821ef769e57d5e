"""Unit tests of the credential inputs/injectors services (no web app)."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from controller.errors import ValidationError
from controller.resources.managed_credential_types import MANAGED_TYPES
from controller.secrets import Vault
from controller.services import credential_injectors as cj
from controller.services import credential_inputs as ci

MACHINE = next({"name": n, "kind": k, "namespace": ns, "inputs": i, "injectors": j}
               for ns, k, n, i, j in MANAGED_TYPES if ns == "ssh")
VAULT = next({"name": n, "kind": k, "namespace": ns, "inputs": i, "injectors": j}
             for ns, k, n, i, j in MANAGED_TYPES if ns == "vault")


def pem(encrypted: bool, fmt=ser.PrivateFormat.TraditionalOpenSSL) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    enc = ser.BestAvailableEncryption(b"pw") if encrypted else ser.NoEncryption()
    return key.private_bytes(ser.Encoding.PEM, fmt, enc).decode()


def openssh_key(tmp_path, passphrase: str) -> str:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen not installed")
    path = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-f", str(path)], check=True)
    return path.read_text()


@pytest.fixture
def vault(tmp_path):
    return Vault(tmp_path / "secret.key")


# -- key helpers ---------------------------------------------------------------------------
def test_key_encryption_is_detected_in_every_format(tmp_path):
    assert not ci.key_is_encrypted(pem(False))
    assert ci.key_is_encrypted(pem(True))
    assert not ci.key_is_encrypted(pem(False, ser.PrivateFormat.PKCS8))
    assert ci.key_is_encrypted(pem(True, ser.PrivateFormat.PKCS8))
    plain = ed25519.Ed25519PrivateKey.generate().private_bytes(
        ser.Encoding.PEM, ser.PrivateFormat.OpenSSH, ser.NoEncryption()).decode()
    assert not ci.key_is_encrypted(plain)
    assert ci.key_is_encrypted(openssh_key(tmp_path, "phrase"))
    assert not ci.key_is_encrypted("not a key") and not ci.key_is_encrypted(None)


# -- type schemas --------------------------------------------------------------------------
def test_every_managed_type_passes_its_own_schema_checks():
    for namespace, kind, name, inputs, injectors in MANAGED_TYPES:
        assert ci.check_type_inputs(inputs, managed=True) == [], name
        assert cj.check_injectors(injectors, inputs) == [], name


@pytest.mark.parametrize("inputs, expected", [
    ([], "inputs must be an object"),
    ({"fields": {}}, "fields must be a list"),
    ({"fields": [{"label": "X"}]}, "'id' is required"),
    ({"fields": [{"id": "1abc", "label": "X"}]}, "id must match"),
    ({"fields": [{"id": "a-b", "label": "X"}]}, "id must match"),
    ({"fields": [{"id": "tower", "label": "X"}]}, "'tower' is a reserved field name"),
    ({"fields": [{"id": "a"}]}, "fields[0] (a): 'label' is required"),
    ({"fields": [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}]}, "field IDs must be unique (a)"),
    ({"fields": [{"id": "a", "label": "A", "type": "integer"}]}, "type must be 'string' or 'boolean'"),
    ({"fields": [{"id": "a", "label": "A", "type": "boolean", "secret": True}]},
     "'secret' is only allowed for string fields"),
    ({"fields": [{"id": "a", "label": "A", "type": "boolean", "choices": ["x"]}]},
     "'choices' is only allowed for string fields"),
    ({"fields": [{"id": "a", "label": "A", "format": "vault_id"}]}, "format must be one of"),
    ({"fields": [{"id": "a", "label": "A", "ask_at_runtime": True}]},
     "'ask_at_runtime' is not supported for custom credentials."),
    ({"fields": [{"id": "a", "label": "A", "bogus": 1}]}, "unknown key 'bogus'"),
    ({"fields": [{"id": "a", "label": "A"}], "required": ["b"]}, "required: 'b' is not a declared field id"),
    ({"fields": [], "dependencies": {}}, "'dependencies' is not allowed"),
])
def test_bad_type_inputs_are_named(inputs, expected):
    problems = ci.check_type_inputs(inputs)
    assert any(expected in p for p in problems), problems


FIELDS = {"fields": [{"id": "user", "label": "User"}, {"id": "token", "label": "Token", "secret": True},
                     {"id": "tls", "label": "TLS", "type": "boolean"}]}


@pytest.mark.parametrize("injectors, expected", [
    ([], "injectors must be an object"),
    ({"bogus": {}}, "'bogus' is not a valid injector type"),
    ({"env": {"X": "{{ nope }}"}}, "env.X uses an undefined field (nope)"),
    ({"env": {"X": "{{ user"}}, "Syntax error rendering template for X inside of env"),
    ({"env": {"ANSIBLE_CONFIG": "{{ user }}"}}, "may affect Ansible configuration"),
    ({"env": {"PATH": "/tmp"}}, "is not allowed to be used in credentials"),
    ({"env": {"1X": "a"}}, "not a valid name"),
    ({"env": {"X": 5}}, "env.X must be a string template"),
    ({"extra_vars": {"bad-name": "a"}}, "not a valid variable name"),
    ({"file": {"config": "a"}}, "must be 'template' or 'template.<name>'"),
    ({"file": {"template": "a", "template.b": "b"}}, "Must use multi-file syntax"),
    ({"env": {"X": "{{ tower.filename }}"}}, "Must define unnamed file injector"),
    ({"file": {"template.a": "x"}, "env": {"X": "{{ tower.filename.b }}"}}, "uses an undefined field"),
    ({"env": {"X": "{{ tower }}"}}, "reserved `tower` namespace"),
    ({"env": {"X": "{{ user.__class__.__mro__ }}"}}, "unsafe"),
])
def test_bad_injectors_are_named(injectors, expected):
    problems = cj.check_injectors(injectors, FIELDS)
    assert any(expected in p for p in problems), problems


def test_good_injectors_pass():
    good = {"env": {"MY_TOKEN": "{{ token }}", "MY_CONF": "{{ tower.filename.conf }}"},
            "extra_vars": {"api": {"user": "{{ user }}", "tls": ["{{ tls }}"]}},
            "file": {"template.conf": "[auth]\nuser={{ user }}\n{% if tls %}tls=1{% endif %}"}}
    assert cj.check_injectors(good, FIELDS) == []


# -- rendering ----------------------------------------------------------------------------
def test_render_injectors_writes_private_files_and_resolves_tower_filename(tmp_path):
    cred_type = {"kind": "cloud", "inputs": FIELDS, "injectors": {
        "env": {"MY_TOKEN": "{{ token }}", "MY_CONF": "{{ tower.filename }}", "MY_TLS": "{{ tls }}",
                "ANSIBLE_SNEAKY": "{{ token }}"},
        "extra_vars": {"api": {"user": "{{ user }}", "token": "{{ token }}"}},
        "file": {"template": "user={{ user }}\ntoken={{ token }}"}}}
    out = cj.render_injectors(cred_type, {"user": "ann", "token": "s3cret"}, str(tmp_path))
    [(path, content)] = out["files"].items()
    assert os.path.dirname(path) == str(tmp_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert open(path).read() == content == "user=ann\ntoken=s3cret"
    assert out["env"] == {"MY_TOKEN": "s3cret", "MY_CONF": path, "MY_TLS": "False"}
    assert "ANSIBLE_SNEAKY" not in out["env"]
    assert out["safe_env"]["MY_TOKEN"] == "**********" and out["safe_env"]["MY_CONF"] == path
    assert out["extra_vars"] == {"api": {"user": "ann", "token": "s3cret"}}


def test_render_injectors_multi_file(tmp_path):
    cred_type = {"kind": "cloud", "inputs": FIELDS, "injectors": {
        "file": {"template.a": "A={{ user }}", "template.b": "B"},
        "env": {"FILE_A": "{{ tower.filename.a }}", "FILE_B": "{{ tower.filename.b }}"}}}
    out = cj.render_injectors(cred_type, {"user": "ann"}, str(tmp_path))
    assert {out["files"][out["env"]["FILE_A"]], out["files"][out["env"]["FILE_B"]]} == {"A=ann", "B"}


def test_render_injectors_is_sandboxed(tmp_path):
    cred_type = {"kind": "cloud", "inputs": FIELDS,
                 "injectors": {"env": {"X": "{{ user.__class__.__mro__[1].__subclasses__() }}"}}}
    with pytest.raises(Exception) as err:
        cj.render_injectors(cred_type, {"user": "ann"}, str(tmp_path))
    assert "unsafe" in str(err.value)


def test_declared_managed_injectors_render(tmp_path):
    controller = next({"kind": k, "inputs": i, "injectors": j} for ns, k, n, i, j in MANAGED_TYPES
                      if ns == "controller")
    out = cj.render_injectors(controller, {"host": "https://c", "password": "pw", "verify_ssl": True},
                              str(tmp_path))
    assert out["env"]["CONTROLLER_HOST"] == "https://c" and out["env"]["TOWER_PASSWORD"] == "pw"
    assert out["env"]["CONTROLLER_VERIFY_SSL"] == "True" and out["safe_env"]["CONTROLLER_PASSWORD"] == "**********"


# -- passwords needed ----------------------------------------------------------------------
def test_passwords_needed():
    assert ci.passwords_needed(MACHINE, {"username": "u", "password": "pw"}) == []
    assert ci.passwords_needed(MACHINE, {"password": "ASK", "become_password": "ASK"}) == \
        ["ssh_password", "become_password"]
    assert ci.passwords_needed(MACHINE, {"ssh_key_data": pem(True), "ssh_key_unlock": "ASK"}) == ["ssh_key_unlock"]
    assert ci.passwords_needed(MACHINE, {"ssh_key_data": pem(False), "ssh_key_unlock": "ASK"}) == []
    assert ci.passwords_needed(VAULT, {"vault_password": "ASK"}) == ["vault_password"]
    assert ci.passwords_needed(VAULT, {"vault_password": "ASK", "vault_id": "prod"}) == ["vault_password.prod"]
    assert ci.passwords_needed(VAULT, {"vault_password": "pw", "vault_id": "prod"}) == []


# -- values -------------------------------------------------------------------------------
def test_prepare_encrypts_secrets_and_keeps_them_on_encrypted_marker(vault):
    stored = ci.prepare_inputs(vault, MACHINE, {"username": "u", "password": "pw"}, None)
    assert stored["username"] == "u" and vault.is_encrypted(stored["password"])
    assert vault.decrypt(stored["password"]) == "pw"
    again = ci.prepare_inputs(vault, MACHINE, {"username": "v", "password": "$encrypted$"}, stored)
    assert again["password"] == stored["password"] and again["username"] == "v"
    assert ci.mask_inputs(MACHINE, again) == {"username": "v", "password": "$encrypted$"}
    assert ci.decrypt_inputs(vault, MACHINE, again) == {"username": "v", "password": "pw"}


@pytest.mark.parametrize("inputs, expected", [
    ({"password": "$encrypted$"}, {"inputs": ["$encrypted$ is a reserved keyword, and cannot be used for password."]}),
    ({"password": "$encrypted$UTF8$AESCBC$abc"},
     {"inputs": ["$encrypted$ is a reserved keyword, and cannot be used for password."]}),
    ({"bogus": "x"}, {"inputs": {"bogus": ["Additional properties are not allowed ('bogus' was unexpected)"]}}),
    ({"password": 5}, {"inputs": {"password": ["Value is not of type 'string'"]}}),
    ({"username": True}, {"inputs": {"username": ["True is not of type 'string'"]}}),
    ({"ssh_key_data": "hunter2"},
     {"inputs": {"ssh_key_data": ["Invalid certificate or key: expected exactly one PEM or OpenSSH private key."]}}),
])
def test_prepare_rejects_bad_values_without_echoing_secrets(vault, inputs, expected):
    with pytest.raises(ValidationError) as err:
        ci.prepare_inputs(vault, MACHINE, inputs, None)
    assert err.value.body == expected


def test_prepare_checks_key_passphrase_pairing(vault):
    with pytest.raises(ValidationError) as err:
        ci.prepare_inputs(vault, MACHINE, {"ssh_key_data": pem(True)}, None)
    assert err.value.body == {"inputs": {"ssh_key_unlock": ["must be set when SSH key is encrypted."]}}
    with pytest.raises(ValidationError) as err:
        ci.prepare_inputs(vault, MACHINE, {"ssh_key_data": pem(False), "ssh_key_unlock": "x"}, None)
    assert err.value.body == {"inputs": {"ssh_key_unlock": ["should not be set when SSH key is not encrypted."]}}
    ok = ci.prepare_inputs(vault, MACHINE, {"ssh_key_data": pem(True), "ssh_key_unlock": "pw"}, None)
    assert set(ok) == {"ssh_key_data", "ssh_key_unlock"}


def test_prepare_required_and_choices(vault):
    # AWX accepts a credential without its required inputs; a job using it checks them
    assert set(ci.prepare_inputs(vault, VAULT, {"vault_id": "x"}, None)) == {"vault_id"}
    assert ci.missing_required(VAULT, {"vault_id": "x"}) == ["vault_password"]
    typed = {"name": "T", "kind": "cloud", "inputs": {"fields": [
        {"id": "region", "label": "R", "choices": ["eu", "us"]}, {"id": "tls", "label": "T", "type": "boolean"}]}}
    with pytest.raises(ValidationError) as err:
        ci.prepare_inputs(vault, typed, {"region": "mars", "tls": "yes"}, None)
    assert err.value.body == {"inputs": {"region": ["'mars' is not one of ['eu', 'us']"],
                                         "tls": ["'yes' is not of type 'boolean'"]}}


def test_vault_id_cannot_change(vault):
    stored = ci.prepare_inputs(vault, VAULT, {"vault_password": "pw", "vault_id": "a"}, None)
    with pytest.raises(ValidationError) as err:
        ci.prepare_inputs(vault, VAULT, {"vault_password": "$encrypted$", "vault_id": "b"}, stored)
    assert err.value.body == {"inputs": ["Vault IDs cannot be changed once they have been created."]}

"""The managed credential types every controller has (AWX's names: clients look them up by
``?name=``), as data.  :func:`controller.resources.credentials.seed_managed_types` writes them.

Each entry: ``(namespace, kind, name, inputs, injectors)``.  Machine, Source Control, Vault and
Network are injected by the executor's own code; types with declared injectors are rendered
generically by :func:`controller.services.credential_injectors.render_injectors`.
"""
from __future__ import annotations

from typing import Any

from ..lookups import EXTERNAL_TYPES


def _f(fid: str, label: str, kind: str = "string", **extra: Any) -> dict[str, Any]:
    return {"id": fid, "label": label, "type": kind, **extra}


def _secret(fid: str, label: str, **extra: Any) -> dict[str, Any]:
    return _f(fid, label, secret=True, **extra)


def _token_type(ns: str, name: str, site: str) -> tuple:
    return (ns, "token", name, {
        "fields": [_secret("token", "Token",
                           help_text=f"This token needs to come from your profile settings in {site}")],
        "required": ["token"]}, {})


_KEY = {"format": "ssh_private_key", "multiline": True}
_VERIFY = _f("verify_ssl", "Verify SSL", "boolean", default=True)

MANAGED_TYPES: list[tuple[str, str, str, dict, dict]] = [
    ("ssh", "ssh", "Machine", {"fields": [
        _f("username", "Username"),
        _secret("password", "Password", ask_at_runtime=True),
        _secret("ssh_key_data", "SSH Private Key", **_KEY),
        _secret("ssh_public_key_data", "Signed SSH Certificate", multiline=True),
        _secret("ssh_key_unlock", "Private Key Passphrase", ask_at_runtime=True),
        _f("become_method", "Privilege Escalation Method",
           help_text='Specify a method for "become" operations. This is equivalent to specifying the '
                     '--become-method Ansible parameter.'),
        _f("become_username", "Privilege Escalation Username"),
        _secret("become_password", "Privilege Escalation Password", ask_at_runtime=True),
    ]}, {}),
    ("scm", "scm", "Source Control", {"fields": [
        _f("username", "Username"),
        _secret("password", "Password"),
        _secret("ssh_key_data", "SCM Private Key", **_KEY),
        _secret("ssh_key_unlock", "Private Key Passphrase"),
    ]}, {}),
    ("vault", "vault", "Vault", {"fields": [
        _secret("vault_password", "Vault Password", ask_at_runtime=True),
        _f("vault_id", "Vault Identifier", format="vault_id",
           help_text="Specify an (optional) Vault ID. This is equivalent to specifying the --vault-id Ansible "
                     "parameter for providing multiple Vault passwords."),
    ], "required": ["vault_password"]}, {}),
    ("net", "net", "Network", {"fields": [
        _f("username", "Username"),
        _secret("password", "Password"),
        _secret("ssh_key_data", "SSH Private Key", **_KEY),
        _secret("ssh_key_unlock", "Private Key Passphrase"),
        _f("authorize", "Authorize", "boolean"),
        _secret("authorize_password", "Authorize Password"),
    ], "dependencies": {"authorize_password": ["authorize"]}, "required": ["username"]}, {}),
    ("aws", "cloud", "Amazon Web Services", {"fields": [
        _f("username", "Access Key"),
        _secret("password", "Secret Key"),
        _secret("security_token", "STS Token",
                help_text="Security Token Service (STS) is a web service that enables you to request temporary, "
                          "limited-privilege credentials for AWS Identity and Access Management (IAM) users."),
    ], "required": ["username", "password"]}, {}),
    ("openstack", "cloud", "OpenStack", {"fields": [
        _f("username", "Username"),
        _secret("password", "Password (API Key)"),
        _f("host", "Host (Authentication URL)"),
        _f("project", "Project (Tenant Name)"),
        _f("project_domain_name", "Project (Domain Name)"),
        _f("domain", "Domain Name"),
        _f("region", "Region Name"),
        _VERIFY,
    ], "required": ["username", "password", "host", "project"]}, {}),
    ("vmware", "cloud", "VMware vCenter", {"fields": [
        _f("host", "VCenter Host"), _f("username", "Username"), _secret("password", "Password"),
    ], "required": ["host", "username", "password"]}, {}),
    ("satellite6", "cloud", "Red Hat Satellite 6", {"fields": [
        _f("host", "Satellite 6 URL"), _f("username", "Username"), _secret("password", "Password"),
    ], "required": ["host", "username", "password"]}, {}),
    ("gce", "cloud", "Google Compute Engine", {"fields": [
        _f("username", "Service Account Email Address"),
        _f("project", "Project"),
        _secret("ssh_key_data", "RSA Private Key", **_KEY),
    ], "required": ["username", "ssh_key_data"]}, {}),
    ("azure_rm", "cloud", "Microsoft Azure Resource Manager", {"fields": [
        _f("subscription", "Subscription ID"), _f("username", "Username"), _secret("password", "Password"),
        _f("client", "Client ID"), _secret("secret", "Client Secret"), _f("tenant", "Tenant ID"),
        _f("cloud_environment", "Azure Cloud Environment"),
    ], "required": ["subscription"]}, {}),
    _token_type("github_token", "GitHub Personal Access Token", "GitHub"),
    _token_type("gitlab_token", "GitLab Personal Access Token", "GitLab"),
    _token_type("bitbucket_dc_token", "Bitbucket Data Center HTTP Access Token", "Bitbucket Data Center"),
    ("insights", "insights", "Insights", {"fields": [
        _f("username", "Username"), _secret("password", "Password"),
    ], "required": ["username", "password"]}, {
        "extra_vars": {"scm_username": "{{username}}", "scm_password": "{{password}}"},
        "env": {"INSIGHTS_USER": "{{username}}", "INSIGHTS_PASSWORD": "{{password}}"}}),
    ("rhv", "cloud", "Red Hat Virtualization", {"fields": [
        _f("host", "Host (Authentication URL)"), _f("username", "Username"), _secret("password", "Password"),
        _f("ca_file", "CA File", help_text="Absolute file path to the CA file to use (optional)"),
    ], "required": ["host", "username", "password"]}, {
        "file": {"template": "[ovirt]\novirt_url={{host}}\novirt_username={{username}}\n"
                             "ovirt_password={{password}}\n{% if ca_file %}ovirt_ca_file={{ca_file}}{% endif %}"},
        "env": {"OVIRT_INI_PATH": "{{tower.filename}}", "OVIRT_URL": "{{host}}",
                "OVIRT_USERNAME": "{{username}}", "OVIRT_PASSWORD": "{{password}}"}}),
    ("controller", "cloud", "Red Hat Ansible Automation Platform", {"fields": [
        _f("host", "Red Hat Ansible Automation Platform",
           help_text="Red Hat Ansible Automation Platform base URL to authenticate with."),
        _f("username", "Username", help_text="Username to authenticate as. Do not set it when using an OAuth token."),
        _secret("password", "Password"),
        _secret("oauth_token", "OAuth Token",
                help_text="An OAuth token to authenticate with. Do not set it when using username/password."),
        _f("verify_ssl", "Verify SSL", "boolean"),
    ], "required": ["host"]}, {"env": {
        f"{prefix}_{var}": f"{{{{{field}}}}}" for prefix in ("TOWER", "CONTROLLER")
        for var, field in (("HOST", "host"), ("USERNAME", "username"), ("PASSWORD", "password"),
                           ("VERIFY_SSL", "verify_ssl"), ("OAUTH_TOKEN", "oauth_token"))}}),
    ("kubernetes_bearer_token", "kubernetes", "OpenShift or Kubernetes API Bearer Token", {"fields": [
        _f("host", "OpenShift or Kubernetes API Endpoint"),
        _secret("bearer_token", "API authentication bearer token"),
        _VERIFY,
        _secret("ssl_ca_cert", "Certificate Authority data", multiline=True),
    ], "required": ["host", "bearer_token"]}, {}),
    ("registry", "registry", "Container Registry", {"fields": [
        _f("host", "Authentication URL", default="quay.io",
           help_text="Authentication endpoint for the container registry."),
        _f("username", "Username"),
        _secret("password", "Password or Token", help_text="A password or token used to authenticate with"),
        _VERIFY,
    ], "required": ["host"]}, {}),
    ("galaxy_api_token", "galaxy", "Ansible Galaxy/Automation Hub API Token", {"fields": [
        _f("url", "Galaxy Server URL", help_text="The URL of the Galaxy instance to connect to."),
        _f("auth_url", "Auth Server URL", help_text="The URL of a Keycloak server token_endpoint, if using SSO auth."),
        _secret("token", "API Token", help_text="A token to use for authentication against the Galaxy instance."),
    ], "required": ["url"]}, {}),
    ("gpg_public_key", "cryptography", "GPG Public Key", {"fields": [
        _secret("gpg_public_key", "GPG Public Key", multiline=True,
                help_text="GPG Public Key used to validate content signatures."),
    ], "required": ["gpg_public_key"]}, {}),
    ("terraform", "cloud", "Terraform backend configuration", {"fields": [
        _secret("configuration", "Backend configuration", multiline=True,
                help_text="Terraform backend config as Hashicorp configuration language."),
        _secret("gce_credentials", "Google Cloud Platform account credentials", multiline=True),
    ], "required": ["configuration"]}, {
        "file": {"template.configuration": "{{configuration}}",
                 "template.gce_credentials": "{{gce_credentials}}"},
        "env": {"TF_BACKEND_CONFIG_FILE": "{{tower.filename.configuration}}",
                "GOOGLE_BACKEND_CREDENTIALS": "{{tower.filename.gce_credentials}}"}}),
]
# the external lookups AWX ships (kind 'external': they inject nothing), declared beside their code
MANAGED_TYPES += EXTERNAL_TYPES

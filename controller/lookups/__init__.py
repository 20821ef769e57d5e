"""External secret lookups (AWX's credential plugins): the managed credential types of kind
``external`` and the code that fetches a secret from each (HashiCorp Vault KV and signed SSH,
CyberArk Conjur and CCP, Microsoft Azure Key Vault, Delinea/Thycotic Secret Server and DevOps
Secrets Vault, Centrify Vault, AWS Secrets Manager), over stdlib HTTP only.

Floor: with ``controller.services`` (it reads stored credentials through it); ``controller.jobs``
calls :func:`credential_inputs` when a run's credentials are injected.
"""
from __future__ import annotations

from .http import LookupFailed
from .resolve import BACKENDS, backend_of, check_metadata, credential_inputs, test_lookup

# (namespace, kind, name, inputs, injectors): the managed credential types of these lookups, in
# the shape of controller.resources.managed_credential_types.MANAGED_TYPES (external types inject nothing)
EXTERNAL_TYPES: list[tuple[str, str, str, dict, dict]] = [
    (b.namespace, "external", b.name, b.inputs, {}) for b in BACKENDS.values()]

__all__ = ["BACKENDS", "EXTERNAL_TYPES", "LookupFailed", "backend_of", "check_metadata", "credential_inputs",
           "test_lookup"]

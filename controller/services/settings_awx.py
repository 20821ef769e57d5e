"""AWX settings Turret keeps without acting on them: clients read and write them (the awx.awx
``settings`` module's examples, ``awx export``), so ``/api/v2/settings/`` stores and returns
them with AWX's names, categories and defaults.  The settings that change what Turret does
are declared in :data:`controller.config.SETTINGS` (with a ``category``).
"""
from __future__ import annotations

from ..config import Setting

_LOGGERS = ["awx", "activity_stream", "job_events", "system_tracking", "broadcast_websocket"]
_OAUTH2 = {"ACCESS_TOKEN_EXPIRE_SECONDS": 31536000000, "AUTHORIZATION_CODE_EXPIRE_SECONDS": 600,
           "REFRESH_TOKEN_EXPIRE_SECONDS": 2628000}


def _s(name: str, default, kind: type, help_text: str, category: str, **kw) -> Setting:
    return Setting(name, default, kind, help_text, category=category, **kw)


AWX_ONLY: tuple[Setting, ...] = (
    # -- system
    _s("ACTIVITY_STREAM_ENABLED", True, bool, "Record changes in the activity stream.", "system"),
    _s("ACTIVITY_STREAM_ENABLED_FOR_INVENTORY_SYNC", False, bool,
       "Record inventory-sync changes in the activity stream.", "system"),
    _s("TOWER_URL_BASE", "", str, "Base URL of the service (Turret: TURRET_URL_BASE).", "system"),
    _s("REMOTE_HOST_HEADERS", ["REMOTE_ADDR", "REMOTE_HOST"], list, "Headers naming the client address.", "system"),
    _s("PROXY_IP_ALLOWED_LIST", [], list, "Proxies allowed to set the remote host headers.", "system"),
    _s("CSRF_TRUSTED_ORIGINS", [], list, "Origins trusted for CSRF.", "system"),
    _s("REDHAT_USERNAME", "", str, "Red Hat customer username.", "system"),
    _s("REDHAT_PASSWORD", "", str, "Red Hat customer password.", "system", secret=True),
    _s("SUBSCRIPTIONS_USERNAME", "", str, "Red Hat or Satellite username.", "system"),
    _s("SUBSCRIPTIONS_PASSWORD", "", str, "Red Hat or Satellite password.", "system", secret=True),
    _s("AUTOMATION_ANALYTICS_URL", "https://example.com", str, "Automation Analytics upload URL.", "system"),
    _s("AUTOMATION_ANALYTICS_GATHER_INTERVAL", 14400, int, "Analytics gather interval (seconds).", "system",
       minimum=1800),
    _s("INSIGHTS_TRACKING_STATE", False, bool, "Gather data for Automation Analytics.", "system"),
    _s("CUSTOM_VENV_PATHS", [], list, "Custom virtual environment paths.", "system"),
    _s("SUBSCRIPTION_USAGE_MODEL", "", str, "Subscription usage model.", "system",
       choices=("", "unique_managed_hosts")),
    # -- jobs
    _s("AWX_ISOLATION_BASE_PATH", "/tmp", str, "Job execution path.", "jobs"),
    _s("AWX_ISOLATION_SHOW_PATHS", [], list, "Paths to expose to isolated jobs.", "jobs"),
    _s("AWX_RUNNER_KEEPALIVE_SECONDS", 0, int, "Keep-alive message interval of container jobs.", "jobs"),
    _s("GALAXY_TASK_ENV", {"ANSIBLE_FORCE_COLOR": "false", "GIT_SSH_COMMAND": "ssh -o StrictHostKeyChecking=no"},
       dict, "Environment variables for Galaxy commands.", "jobs"),
    _s("AWX_ROLES_ENABLED", True, bool, "Download roles of a project's requirements.", "jobs"),
    _s("AWX_COLLECTIONS_ENABLED", True, bool, "Download collections of a project's requirements.", "jobs"),
    _s("AWX_SHOW_PLAYBOOK_LINKS", False, bool, "Follow symlinks when finding playbooks.", "jobs"),
    _s("AWX_MOUNT_ISOLATED_PATHS_ON_K8S", False, bool, "Expose host paths for container groups.", "jobs"),
    _s("GALAXY_IGNORE_CERTS", False, bool, "Ignore Galaxy SSL certificate verification.", "jobs"),
    _s("STDOUT_MAX_BYTES_DISPLAY", 1048576, int, "Largest stdout shown before a download is required.", "jobs",
       minimum=0),
    _s("EVENT_STDOUT_MAX_BYTES_DISPLAY", 1024, int, "Largest stdout shown per job event.", "jobs", minimum=0),
    _s("MAX_WEBSOCKET_EVENT_RATE", 30, int, "Job events pushed per second to the UI.", "jobs", minimum=0),
    _s("AWX_ANSIBLE_CALLBACK_PLUGINS", [], list, "Paths to search for extra callback plugins.", "jobs"),
    _s("ANSIBLE_FACT_CACHE_TIMEOUT", 0, int, "Seconds cached facts stay valid (0: forever).", "jobs", minimum=0),
    _s("DEFAULT_CONTAINER_RUN_OPTIONS", ["--network", "slirp4netns:enable_ipv6=true"], list,
       "Options of container runs.", "jobs"),
    # -- logging
    _s("LOG_AGGREGATOR_HOST", None, str, "Logging aggregator host.", "logging"),
    _s("LOG_AGGREGATOR_PORT", None, int, "Logging aggregator port.", "logging"),
    _s("LOG_AGGREGATOR_TYPE", None, str, "Logging aggregator type.", "logging",
       choices=("logstash", "splunk", "loggly", "sumologic", "other")),
    _s("LOG_AGGREGATOR_USERNAME", "", str, "Logging aggregator username.", "logging"),
    _s("LOG_AGGREGATOR_PASSWORD", "", str, "Logging aggregator password or token.", "logging", secret=True),
    _s("LOG_AGGREGATOR_LOGGERS", _LOGGERS, list, "Loggers sending data to the aggregator.", "logging"),
    _s("LOG_AGGREGATOR_INDIVIDUAL_FACTS", False, bool, "Log system tracking facts individually.", "logging"),
    _s("LOG_AGGREGATOR_ENABLED", False, bool, "Enable external logging.", "logging"),
    _s("LOG_AGGREGATOR_TOWER_UUID", "", str, "Cluster-wide unique identifier.", "logging"),
    _s("LOG_AGGREGATOR_PROTOCOL", "https", str, "Logging aggregator protocol.", "logging",
       choices=("https", "tcp", "udp")),
    _s("LOG_AGGREGATOR_TCP_TIMEOUT", 5, int, "TCP connection timeout.", "logging"),
    _s("LOG_AGGREGATOR_VERIFY_CERT", True, bool, "Verify the aggregator's HTTPS certificate.", "logging"),
    _s("LOG_AGGREGATOR_LEVEL", "WARNING", str, "Logging aggregator level threshold.", "logging",
       choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    # -- ui
    _s("PENDO_TRACKING_STATE", "off", str, "User analytics tracking state.", "ui",
       choices=("off", "anonymous", "detailed")),
    _s("MAX_UI_JOB_EVENTS", 4000, int, "Most job events the UI shows at once.", "ui", minimum=100),
    _s("UI_LIVE_UPDATES_ENABLED", True, bool, "Live updates in the UI.", "ui"),
    # -- authentication
    _s("SESSIONS_PER_USER", -1, int, "Most simultaneous sessions per user (-1: no limit).", "authentication",
       minimum=-1),
    _s("DISABLE_LOCAL_AUTH", False, bool, "Disable local authentication.", "authentication"),
    _s("AUTH_BASIC_ENABLED", True, bool, "Enable HTTP Basic authentication.", "authentication"),
    _s("OAUTH2_PROVIDER", _OAUTH2, dict, "OAuth 2 timeouts.", "authentication"),
    _s("ALLOW_OAUTH2_FOR_EXTERNAL_USERS", False, bool, "Allow external users to create OAuth2 tokens.",
       "authentication"),
    _s("LOGIN_REDIRECT_OVERRIDE", "", str, "Where unauthenticated users are sent.", "authentication"),
    _s("ALLOW_METRICS_FOR_ANONYMOUS_USERS", False, bool, "Anonymous users may poll metrics.", "authentication"),
    # -- debug
    _s("AWX_CLEANUP_PATHS", True, bool, "Remove temporary job folders.", "debug"),
    _s("AWX_REQUEST_PROFILE", False, bool, "Profile API requests.", "debug"),
)

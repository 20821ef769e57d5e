"""Part of the executor: ansible-runner's ``RunnerConfig`` with Turret's ssh-agent wrapper,
used by local runs and by the runs of a ``turret worker``.

Contracts:
  * :class:`AgentRunnerConfig` differs from runner's config in one thing: ssh-add reads the
    job's key on its stdin, so its passphrase prompt is ``Enter passphrase for (stdin):``
    whatever the run dir's path (runner matches prompts only in the last 100 characters of
    output: with the key's full path in the prompt, a long data dir made a job hang).
  * Run as a script, ``python -P <path of this file> --private-data-dir <dir>`` is
    ``ansible-runner worker --private-data-dir <dir>`` (the transmit stream on stdin, runner's
    output frames on stdout) whose run gets that same config: a job runs on a worker as it
    runs on the controller.  The passphrase stays where runner keeps it (the ``passwords`` of
    the stream's kwargs, answered through pexpect), never on a command line.
  * Only ansible_runner and the standard library are imported: the worker starts this file by
    its path, without importing the controller package (~0.3 s per job); ``-P`` keeps this
    folder off ``sys.path`` (its modules' names must not shadow anything runner imports).
"""
from __future__ import annotations

import shlex
import sys

from ansible_runner.config.runner import RunnerConfig
from ansible_runner.utils import args2cmdline


class AgentRunnerConfig(RunnerConfig):
    """ansible-runner's config with one change: ssh-add reads the key on its stdin.

    ``ssh-add <path>`` prompts ``Enter passphrase for <path>:`` with the key's full path inside
    the run dir, and runner never sees the prompt when that is past its 100-character window;
    ``ssh-add - < <path>`` prompts ``Enter passphrase for (stdin):``.  The rest is runner's own
    wrapper: a trap removes the key fifo even when ssh-add fails (a later reader would block
    forever on it).
    """

    def wrap_args_with_ssh_agent(self, args: list[str], ssh_key_path: str | None,
                                 ssh_auth_sock: str | None = None, silence_ssh_add: bool = False) -> list[str]:
        if not ssh_key_path or self.containerized:
            return super().wrap_args_with_ssh_agent(args, ssh_key_path, ssh_auth_sock, silence_ssh_add)
        cleanup = args2cmdline("rm", "-f", ssh_key_path)
        script = " && ".join([args2cmdline("trap", cleanup, "EXIT"), f"ssh-add - < {shlex.quote(ssh_key_path)}",
                              cleanup, args2cmdline(*args)])
        return ["ssh-agent", *(["-a", ssh_auth_sock] if ssh_auth_sock else []), "sh", "-c", script]


def serve_worker(argv: list[str]) -> int:
    """``ansible-runner worker <argv>`` whose run is configured by :class:`AgentRunnerConfig`;
    returns runner's exit code."""
    import ansible_runner.interface as interface
    from ansible_runner.__main__ import main as runner_main

    # runner's worker builds its run's config through this module-level name (``init_runner``);
    # rebinding it is the one seam runner offers, and this process serves one run and nothing else
    interface.RunnerConfig = AgentRunnerConfig
    return int(runner_main(["worker", *argv]) or 0)


if __name__ == "__main__":
    raise SystemExit(serve_worker(sys.argv[1:]))

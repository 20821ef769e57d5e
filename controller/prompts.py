"""The launch prompts of job templates, declared once: what a launch (or a schedule) may set
instead of the template's own value, and which ``ask_*_on_launch`` flag allows it.

Everything about prompts derives from :data:`PROMPTS`: the ``ask_*_on_launch`` fields of the
job template (with their help text), the launch OPTIONS and ``GET launch/`` (asks and
defaults), the accept/ignore rule of ``launch_job``, the schedules' prompt check, the UI launch
form, and the collection's ``job_launch`` options (checked by
``tests/collection/test_completeness.py``, as the collection cannot import the controller).

Contracts:
  * Plain data on the lowest floor: this module imports nothing from the controller, so the
    declarations (``resources``), ``jobs``, ``services`` and the edges all import it downward.
  * The table is in the order of AWX's launch serializer (``JobLaunchSerializer``): the launch
    OPTIONS list the prompts in this order, and so does the UI form.
  * ``key`` is both the launch body key and the job template field (or relation) it overrides;
    ``ask_flag`` is the job template's boolean that lets a launch set it.  Without the flag a
    launch that sets the key has it ignored (``ignored_fields``), a schedule has it refused
    (its credentials refused on attach; its labels and instance groups ignored when it fires,
    as AWX does).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prompt:
    """One launch prompt.

    ``kind`` is the OPTIONS type of one value (``string``, ``choice``, ``boolean``,
    ``integer``, ``json``, ``id``); ``list_of_ids`` makes the prompt a list of such ids (the
    template's relation, replaced as a whole).  ``label`` is what a person reads (the UI form,
    the ask flag's help text); ``help_text`` says what the launched value does.
    ``schedulable``: a schedule stores the prompt in a field of the same name (extra variables
    travel as the schedule's ``extra_data``; the list prompts are the schedule's sub-lists of
    the same name, :data:`SCHEDULE_LISTS`, not fields).
    """

    key: str
    ask_flag: str
    kind: str
    label: str
    help_text: str
    list_of_ids: bool = False
    schedulable: bool = True

    @property
    def options_type(self) -> str:
        """The type the launch OPTIONS give the prompt."""
        return "list_of_ids" if self.list_of_ids else self.kind

    @property
    def options_label(self) -> str:
        """The launch OPTIONS label: the key spaced and capitalised, as every field label of the
        API (DRF's default, :meth:`controller.registry.Field.verbose_label`)."""
        text = self.key.replace("_", " ")
        return text[:1].upper() + text[1:]

    @property
    def launch_help(self) -> str:
        """The launch OPTIONS help text: what the value does, as a sentence."""
        return f"{self.help_text[:1].upper()}{self.help_text[1:]}."

    @property
    def ask_help(self) -> str:
        """The help text of the template's ``ask_*_on_launch`` flag (AWX: "Prompt for X on
        launch" plus what X does)."""
        return f"Prompt for {self.label[:1].lower() + self.label[1:]} on launch: a launch may then set " \
               f"{self.key}, {self.help_text}."


PROMPTS: tuple[Prompt, ...] = (
    Prompt("extra_vars", "ask_variables_on_launch", "json", "Extra variables",
           "variables passed to the playbook (-e) over the template's extra_vars (a survey's variables "
           "are accepted without the prompt)", schedulable=False),
    Prompt("inventory", "ask_inventory_on_launch", "id", "Inventory",
           "the inventory to run against instead of the template's (the launcher needs its use role)"),
    Prompt("scm_branch", "ask_scm_branch_on_launch", "string", "Source control branch",
           "the branch, tag or commit of the project to take the playbook from (needs the project's "
           "allow_override)"),
    Prompt("limit", "ask_limit_on_launch", "string", "Limit",
           "a host pattern narrowing the inventory to the hosts the job runs on (--limit)"),
    Prompt("job_tags", "ask_tags_on_launch", "string", "Job tags",
           "comma-separated tags: only the plays and tasks with one of them run (--tags)"),
    Prompt("skip_tags", "ask_skip_tags_on_launch", "string", "Skip tags",
           "comma-separated tags: the plays and tasks with one of them are skipped (--skip-tags)"),
    Prompt("job_type", "ask_job_type_on_launch", "choice", "Job type",
           "run, or check to run in check mode (--check) and change nothing"),
    Prompt("verbosity", "ask_verbosity_on_launch", "choice", "Verbosity",
           "the output verbosity, from 0 (normal) to 5 (-vvvvv)"),
    Prompt("diff_mode", "ask_diff_mode_on_launch", "boolean", "Diff mode",
           "whether to show the changes made to templated files and other text on the hosts (--diff)"),
    Prompt("credentials", "ask_credential_on_launch", "id", "Credentials",
           "credentials replacing the template's, type by type (vaults by vault id; the launcher needs "
           "their use role)", list_of_ids=True, schedulable=False),
    Prompt("execution_environment", "ask_execution_environment_on_launch", "id", "Execution environment",
           "the execution environment to run with instead of the template's (a local virtual environment "
           "or a container image)"),
    Prompt("labels", "ask_labels_on_launch", "id", "Labels",
           "labels added to the template's (the job gets the template's labels and these; a prompt never "
           "removes one)", list_of_ids=True, schedulable=False),
    Prompt("forks", "ask_forks_on_launch", "integer", "Forks",
           "how many hosts Ansible works on in parallel (--forks; 0 keeps Ansible's default)"),
    Prompt("job_slice_count", "ask_job_slice_count_on_launch", "integer", "Job slice count",
           "how many slices to split the job into (accepted for AWX clients and recorded on the job; "
           "Turret does not slice jobs)"),
    Prompt("timeout", "ask_timeout_on_launch", "integer", "Timeout",
           "the seconds the job may run before it is canceled (0: no limit)"),
    Prompt("instance_groups", "ask_instance_groups_on_launch", "id", "Instance groups",
           "the instance groups to run in, most preferred first, instead of the template's, inventory's "
           "and organization's (the launcher needs their use role)", list_of_ids=True, schedulable=False),
)
BY_KEY: dict[str, Prompt] = {p.key: p for p in PROMPTS}
SCHEDULABLE: tuple[Prompt, ...] = tuple(p for p in PROMPTS if p.schedulable)
SCHEDULE_LISTS: tuple[Prompt, ...] = tuple(p for p in PROMPTS if p.list_of_ids)
"""The list prompts a schedule keeps as sub-lists (``/schedules/N/credentials/``, ``labels/``,
``instance_groups/``): attached and detached one id at a time, replayed when it fires."""

NO_INVENTORY: dict = {"name": None, "id": None}
"""A launch's ``defaults.inventory`` when the template has none (AWX's ``get_defaults`` names the
inventory even then); copy it before handing it out."""

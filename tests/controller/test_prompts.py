"""The launch prompts table (controller/prompts.py) agrees with what derives from it or must
match it: the template's ask flags, the schedule's prompt fields, the launch OPTIONS."""
from __future__ import annotations

from controller.prompts import PROMPTS, SCHEDULABLE
from controller.resources import build_registry
from tests.support.jobs import make_inventory, make_jt, make_org, make_project

REG = build_registry()


def test_every_ask_flag_is_one_prompt():
    flags = [f.name for f in REG["job_template"].fields if f.name.startswith("ask_")]
    assert sorted(flags) == sorted(p.ask_flag for p in PROMPTS)
    assert len({p.key for p in PROMPTS}) == len(PROMPTS)
    assert all(REG["job_template"].field(p.ask_flag).help_text.startswith("Prompt for ") for p in PROMPTS)


def test_single_values_override_template_fields_and_lists_its_relations():
    jt = REG["job_template"]
    for prompt in PROMPTS:
        if prompt.list_of_ids:
            assert jt.field(prompt.key) is None
        else:
            assert jt.field(prompt.key) is not None, prompt.key
    # its m2m lists are list prompts, except the notification attach lists (nothing a launch sets)
    lists = {r.name for r in jt.relations if r.kind == "m2m" and not r.name.startswith("notification_templates_")}
    assert lists <= {p.key for p in PROMPTS if p.list_of_ids}


def test_schedulable_prompts_are_the_schedule_prompt_fields():
    schedule = REG["schedule"]
    for prompt in PROMPTS:
        assert (schedule.field(prompt.key) is not None) == (prompt in SCHEDULABLE), prompt.key


def test_launch_options_list_every_prompt(admin, app_state):
    org = make_org(admin)
    jt = make_jt(admin, make_project(admin, app_state.settings.data_dir, org, {"site.yml": "- hosts: all\n"}),
                 make_inventory(admin, org), "site.yml")
    post = admin.options(f"/api/v2/job_templates/{jt['id']}/launch/").json["actions"]["POST"]
    assert list(post) == [k for p in PROMPTS for k in
                          ((p.key, "credential_passwords") if p.key == "credentials" else (p.key,))]
    for prompt in PROMPTS:
        assert post[prompt.key]["type"] == prompt.options_type
        assert post[prompt.key]["help_text"] == prompt.launch_help

"""Schema upgrades: a table joining an id group on an existing database (what an upgrade that
declares a new unified job or template kind does) continues the group's ids and is in every
member's shared-id trigger."""
from __future__ import annotations

from controller.registry import Field, Registry, Resource
from controller.store import Store


def _registry(*names: str) -> Registry:
    reg = Registry()
    for name in names:
        reg.add(Resource(name=name, plural=name + "s", fields=[Field("x", "integer")], id_group="things",
                         common_fields=False))
    return reg


def test_a_table_added_to_an_id_group_by_an_upgrade_never_reuses_an_id(tmp_path):
    store = Store(str(tmp_path / "db.sqlite3"))
    store.migrate(_registry("apple", "pear"))
    ids = [store.insert("apples", {"x": i}) for i in range(5)] + [store.insert("pears", {"x": 9})]
    assert ids == [1, 2, 3, 4, 5, 6]
    store.migrate(_registry("apple", "pear", "plum"))        # the upgrade declares one more member
    plum = store.insert("plums", {"x": 0})
    assert plum == 7                                           # not 1: apples 1-5 and pear 6 exist
    apple = store.insert("apples", {"x": 0})
    assert apple == 8                                          # the old members' triggers know plums
    assert store.insert("plums", {"x": 0}) == 9

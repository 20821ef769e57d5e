"""The declaration of a sub-list: :class:`Relation`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Relation:
    """A sub-list ``/<plural>/<id>/<name>/`` and how it is stored.

    kinds:
      * ``reverse_fk``   children whose ``key`` FK points at the parent (create injects it,
                         disassociate deletes the child)
      * ``role_members`` users that are direct members of the parent's role ``key``
      * ``member_of``    objects of ``target`` whose role ``key`` holds the parent user
      * ``m2m``          association table ``key`` = "table:left_col:right_col"
      * ``object_roles`` / ``user_roles`` / ``team_roles`` / ``role_users`` / ``role_teams``
      * ``access_list``  users with effective access to the parent
      * ``activity``     activity-stream entries about the parent
      * ``derived``      read-only list computed by ``scope_hook`` (root_groups, all_hosts ...)
    """

    name: str
    target: str
    kind: str
    key: str = ""
    create: bool = False       # POST without "id" creates a child
    attach: bool = True        # POST {"id": N} attaches, {"id", "disassociate"} detaches
    read_only: bool = False
    scope_hook: Callable[..., Any] | None = None   # (ctx, parent_row) -> (sql, params): overrides kind
    # (parent_row) -> True: the sub-list shows every member, the parent's read check standing for
    # theirs (AWX's ``filter_read_permission = False``: a smart inventory's reader sees its hosts)
    lists_all: Callable[..., Any] | None = None
    # (ctx, parent_row, child_row, on) -> None: raise APIError to refuse an attach (on) or a detach (cycles...)
    validate_association: Callable[..., Any] | None = None
    # m2m create-and-attach: parent fields copied onto the new child ("inventory" for a group's hosts)
    inherit: tuple[str, ...] = ()
    # (ctx, parent_row, body) -> child row | None: POST without "id" attaches this existing child
    # instead of creating one (204), e.g. a group's host named like an existing one
    find_existing: Callable[..., Any] | None = None
    # reverse_fk only: (ctx, child_row) -> None run instead of the target's ``before_delete`` when a
    # disassociation deletes the child (AWX: a group dropped from /inventories/N/groups/ is deleted
    # alone, not recursively as by DELETE /groups/N/)
    detach_delete: Callable[..., Any] | None = None
    # (ctx, parent_row) -> None: when set, ``{"disassociate": true}`` without "id" deletes the
    # parent itself, this hook replacing its ``before_delete`` (AWX GroupChildrenList.unattach)
    detach_all_deletes_parent: Callable[..., Any] | None = None
    # m2m only: a detach that leaves the child in no association table of any resource deletes the
    # child, without its delete permission (AWX's label sub-lists: a label attached to nothing goes)
    detach_deletes_unused: bool = False
    # m2m only: an attach or create is refused (400, "Maximum number of <name> for <parent> reached.")
    # while the parent holds more than this many children; 0 = no cap (AWX's label sub-lists: 100)
    max_links: int = 0
    # m2m only: the association keeps the order of attachment (AWX's OrderedManyToManyField, e.g. an
    # organization's galaxy_credentials): the link table gets a ``position`` column and the sub-list
    # is listed in that order unless the request asks for another
    ordered: bool = False
    # m2m only: (ctx, parent_row, child_row) -> bool decides an attach or detach instead of the
    # default rule (change on the parent, read on the child), e.g. AWX's notification attach rules
    may_attach: Callable[..., Any] | None = None
    # m2m only: the filter name of the association read the other way, on the target (Django's
    # related_name: ``parents`` of a group, its ``children`` read backwards); no sub-list
    reverse_name: str = ""
    # reverse_fk with create only: OPTIONS offers POST to whom the target's ``can_create`` allows
    # with the parent's key alone (AWX's sub-list views that declare a ``parent_key`` ask
    # ``can_add({parent_key: parent})``); False where AWX's view declares none (a credential
    # type's credentials), which offers POST to every reader of the parent
    checks_add: bool = True

    @property
    def writable(self) -> bool:
        return not self.read_only and (self.create or self.attach)

"""Merging duplicate records from a client's profile (client.merge: owner, manager).

The profile lists likely duplicates; "Merge into this record" asks to confirm, then the
duplicate's visits, payments, charts and photos move to the profile's client
(domain/clients/merge.py). A merge can be undone from either profile within its window.
Ids the browser sends back are checked against what the profile offered.
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.clients.merge_actions import do_merge_clients, do_undo_merge
from medspa.domain.errors import ValidationFailed
from medspa.features.clients.history import ClientHistoryState
from medspa.features.clients.state import ClientProfileState


class ProfileMergeState(ClientProfileState):
    """The merge controls of the profile: the duplicate awaiting confirmation, the outcome."""

    confirm_id: int = 0
    confirm_name: str = ""
    merge_message: str = ""
    merge_error: str = ""

    @rx.event
    def clear(self):
        """on_load after the profile: a new profile starts without the last one's messages."""
        self.confirm_id, self.confirm_name, self.merge_message, self.merge_error = 0, "", "", ""

    @rx.event
    def ask_merge(self, client_id: int):
        """Ask to confirm merging one of the listed duplicates into this record."""
        offered = {d.id: d.name for d in self.duplicates}
        if isinstance(client_id, int) and not isinstance(client_id, bool) and client_id in offered:
            self.confirm_id, self.confirm_name, self.merge_error = client_id, offered[client_id], ""

    @rx.event
    def cancel_merge(self):
        """Forget the merge awaiting confirmation."""
        self.confirm_id, self.confirm_name = 0, ""

    @rx.event
    async def confirm_merge(self):
        """Merge the confirmed duplicate into this record, then show the profile again."""
        absorbed, name = self.confirm_id, self.confirm_name
        self.confirm_id, self.confirm_name = 0, ""
        if not absorbed or not self._client_id or absorbed not in {d.id for d in self.duplicates}:
            return None
        try:
            done = await self._act(do_merge_clients, self._client_id, absorbed)
        except ValidationFailed as exc:
            self.merge_error = next(iter(exc.fields.values()), "These records cannot be merged.")
            return None
        if not done.ok:
            self.merge_error = done.error
            return done.redirect
        self.merge_message, self.merge_error = f"{name} was merged into this record.", ""
        return [ClientProfileState.load, ClientHistoryState.refresh]

    @rx.event
    async def undo(self, merge_id: int):
        """Undo a merge the profile names (within its window)."""
        offered = {m.merge_id: m for m in [*self.merges, *self.merged_into] if m.undoable}
        if not isinstance(merge_id, int) or isinstance(merge_id, bool) or merge_id not in offered:
            return None
        try:
            done = await self._act(do_undo_merge, merge_id)
        except ValidationFailed as exc:
            self.merge_error = next(iter(exc.fields.values()), "This merge cannot be undone.")
            return None
        if not done.ok:
            self.merge_error = done.error
            return done.redirect
        self.merge_message, self.merge_error = f"The merge with {offered[merge_id].name} was undone.", ""
        return [ClientProfileState.load, ClientHistoryState.refresh]


# ---- components


def _duplicate_row(d) -> rx.Component:
    m = ProfileMergeState
    return rx.vstack(
        rx.flex(
            rx.vstack(rx.link(d.name, href=d.href, size="2", weight="medium"),
                      rx.text(d.why, size="1", color_scheme="gray"), spacing="0"),
            rx.button("Merge into this record", size="1", variant="soft", on_click=m.ask_merge(d.id),
                      class_name="merge-ask"),
            justify="between", align="center", width="100%", gap="12px", wrap="wrap",
        ),
        rx.cond(m.confirm_id == d.id, rx.callout(
            rx.vstack(
                rx.text("Move ", d.name, "'s visits, payments, messages, charts and photos to this record? The other "
                        "record is hidden, never deleted, and the merge can be undone for 30 days.", size="2"),
                rx.hstack(rx.button("Merge", size="1", color_scheme="red", on_click=m.confirm_merge,
                                    id="merge-confirm"),
                          rx.button("Cancel", size="1", variant="soft", color_scheme="gray", on_click=m.cancel_merge),
                          spacing="2"),
                spacing="2"),
            icon="triangle-alert", color_scheme="amber", size="1", width="100%")),
        spacing="2", width="100%", class_name="duplicate-row", custom_attrs={"data-client-id": d.id},
    )


def _merge_row(note) -> rx.Component:
    return rx.flex(
        rx.text(rx.link(note.name, href=note.href, size="2"), " was merged into this record", size="2"),
        rx.cond(note.undoable, rx.hstack(
            rx.text("Undo until ", note.until, size="1", color_scheme="gray"),
            rx.button("Undo", size="1", variant="soft", color_scheme="gray",
                      on_click=ProfileMergeState.undo(note.merge_id), class_name="merge-undo"),
            align="center", spacing="2")),
        justify="between", align="center", width="100%", gap="12px", wrap="wrap", class_name="merge-row",
    )


def merged_banner() -> rx.Component:
    """On a hidden record: where it went, and undo while the window lasts."""
    return rx.foreach(ClientProfileState.merged_into, lambda note: rx.callout(
        rx.flex(
            rx.text("This record was merged into ", rx.link(note.name, href=note.href), ".", size="2"),
            rx.cond(note.undoable, rx.button("Undo merge", size="1", variant="soft",
                                             on_click=ProfileMergeState.undo(note.merge_id), id="merged-undo")),
            justify="between", align="center", gap="12px", wrap="wrap", width="100%"),
        icon="git-merge", color_scheme="amber", width="100%", id="profile-merged-into"))


def record_keeping_card() -> rx.Component:
    """Likely duplicates (merge) and the records merged into this one (undo): client.merge only."""
    p, m = ClientProfileState, ProfileMergeState
    return rx.fragment(
        rx.cond(m.merge_message != "", rx.callout(m.merge_message, icon="circle-check", color_scheme="green",
                                                  size="1", width="100%", id="merge-message")),
        rx.cond(m.merge_error != "", rx.callout(m.merge_error, icon="circle-alert", color_scheme="red", size="1",
                                                width="100%", id="merge-error")),
        rx.cond(p.duplicates.length() > 0, rx.card(rx.vstack(
            rx.heading("Possible duplicates", size="4"),
            rx.text("Records that may be this same person. Merging moves everything onto this record.", size="2",
                    color_scheme="gray"),
            rx.foreach(p.duplicates, _duplicate_row),
            spacing="3", width="100%"), width="100%", id="profile-duplicates")),
        rx.cond(p.merges.length() > 0, rx.card(rx.vstack(
            rx.heading("Merged records", size="4"),
            rx.foreach(p.merges, _merge_row),
            spacing="3", width="100%"), width="100%", id="profile-merges")),
    )

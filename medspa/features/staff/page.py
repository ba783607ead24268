"""`/staff`: the owner's list of staff accounts with two-factor, lock and session actions, and
staff invitations (invites.py).

Other staff roles see a plain "not found" (missing and forbidden look alike)."""

from __future__ import annotations

import reflex as rx

from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.staff.licences import licences_card
from medspa.features.staff.invites import InvitesState, invite_form, pending_invitations
from medspa.features.staff.state import StaffPageState, StaffRowView

ROUTE = "/staff"


def _action(row: StaffRowView, action: str, label: str, **props) -> rx.Component:
    return rx.button(label, size="1", variant="soft", on_click=StaffPageState.act(row.user_id, action),
                     class_name=f"staff-{action.replace('_', '-')}", **props)


def _row(row: StaffRowView) -> rx.Component:
    two_factor = rx.hstack(
        rx.cond(row.tf_on, rx.badge("On", color_scheme="grass"), rx.badge("Off", color_scheme="gray")),
        rx.cond(row.tf_required,
                rx.badge(rx.cond(row.role_requires, "Required by role", "Required"), color_scheme="amber")),
        spacing="1", class_name="staff-2fa",
    )
    actions = rx.hstack(
        rx.cond(row.active,
                rx.fragment(
                    rx.cond(row.role_requires, rx.fragment(),
                            rx.cond(row.require_flag,
                                    _action(row, "unrequire_2fa", "Don't require 2FA", color_scheme="gray"),
                                    _action(row, "require_2fa", "Require 2FA"))),
                    rx.cond(row.tf_on, _action(row, "reset_2fa", "Reset 2FA", color_scheme="orange")),
                    rx.cond(row.locked != "", _action(row, "unlock", "Unlock", color_scheme="grass")),
                    rx.cond(row.sessions > 0, _action(row, "revoke_sessions", "Sign out", color_scheme="gray")),
                    rx.cond(row.is_self, rx.fragment(), _action(row, "deactivate", "Deactivate", color_scheme="red")),
                ),
                _action(row, "reactivate", "Reactivate", color_scheme="grass")),
        spacing="2", wrap="wrap",
    )
    return rx.table.row(
        rx.table.cell(rx.vstack(
            rx.hstack(rx.text(row.name, size="2", weight="medium"),
                      rx.cond(row.is_self, rx.badge("you", size="1", variant="outline")), spacing="2"),
            rx.text(row.email, size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.text(row.role, text_transform="capitalize"), class_name="staff-role"),
        rx.table.cell(rx.cond(row.active, rx.badge("Active", color_scheme="grass"),
                              rx.badge("Deactivated", color_scheme="red")), class_name="staff-active"),
        rx.table.cell(two_factor),
        rx.table.cell(rx.cond(row.locked != "", rx.badge(rx.icon("lock", size=12), "Locked · ", row.locked,
                                                         color_scheme="red"),
                              rx.text("—", color_scheme="gray")), class_name="staff-locked"),
        rx.table.cell(row.sessions.to_string(), class_name="staff-sessions"),
        rx.table.cell(actions),
        class_name="staff-row",
        custom_attrs={"data-email": row.email, "data-user-id": row.user_id},
    )


def _view() -> rx.Component:
    s = StaffPageState
    return rx.vstack(
        rx.heading("Staff accounts", size="6", weight="bold"),
        rx.text("Who can sign in, with which role, and how. Owners, managers and providers always need "
                "two-factor sign-in; you can require it for anyone else.", size="2", color_scheme="gray"),
        rx.cond(s.message != "", rx.callout(s.message, icon="circle-check", color_scheme="grass", size="1",
                                            id="staff-message", width="100%")),
        rx.cond(s.error != "", rx.callout(s.error, icon="circle-alert", color_scheme="red", size="1",
                                          id="staff-error", width="100%")),
        rx.card(
            rx.table.root(
                rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in (
                    "Name", "Role", "Status", "Two-factor", "Locked", "Sessions", "Actions")))),
                rx.table.body(rx.foreach(s.rows, _row)),
                size="2", variant="ghost", width="100%", id="staff-table",
            ),
            width="100%", overflow_x="auto",
        ),
        licences_card(),  # issue 18: who prescribes (features/staff/licences.py)
        invite_form(),
        pending_invitations(),
        spacing="4", padding="20px", width="100%", max_width="1300px", margin_x="auto",
    )


def staff_page() -> rx.Component:
    s = StaffPageState
    return rx.box(
        rx.cond(s.not_found, not_found_view("staff-not-found"),
                rx.cond(s.allowed, rx.fragment(staff_header("staff"), _view()),
                        rx.center(rx.spinner(size="3"), padding_top="18vh"))),
        min_height="100vh",
        background=rx.color("gray", 2),
        id="staff-page",
    )


def register(app: rx.App) -> None:
    """Add /staff (owner only)."""
    app.add_page(staff_page, route=ROUTE, title="Staff · medspa", on_load=[StaffPageState.load, InvitesState.load])

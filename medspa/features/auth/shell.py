"""THE staff header: clinic name, the pages this role may open, the account menu (who is
signed in, their account, sign out).

Used by every staff page (calendar, audit, account, staff). The links only help find the
way: every page checks the session and the permission on the server again.
"""

from __future__ import annotations

import reflex as rx

from medspa.features.auth.components import LOGOUT_ACTION, native_form, sign_out_button
from medspa.features.auth.state import StaffState
from medspa.domain.identity.permissions import has_permission
from medspa.web.auth import HOME_PATH, ROLE_HOMES, STAFF_ROLES

# (key, label, icon, href, the roles that see the link: None = every staff role)
NAV = (
    ("calendar", "Calendar", "calendar-days", "/calendar", ("owner", "manager", "provider", "front_desk")),  # calendar.read
    ("today", "Today", "list-checks", "/today", ("owner", "manager", "provider", "front_desk")),  # day lists
    ("clients", "Clients", "contact", "/clients", ("owner", "manager", "provider", "front_desk")),  # client.read
    ("waitlist", "Waitlist", "hourglass", "/waitlist", ("owner", "manager", "provider", "front_desk")),  # waitlist.manage
    ("lab", "Lab", "flask-conical", "/lab", ("owner", "provider", "lab")),  # order.worklist.read
    ("dashboard", "Dashboard", "chart-column", "/dashboard", ("owner", "manager")),  # report.read
    ("outbox", "Outbox", "mail", "/outbox", ("owner", "manager")),  # outbox.manage
    ("audit", "Audit trail", "shield-check", "/audit", ("owner",)),
    ("staff", "Staff", "users", "/staff", ("owner",)),
    ("settings", "Settings", "settings", "/settings", ("owner", "manager")),  # settings.write
    ("account", "Account", "user-cog", "/account", None),
)


def _roles_with(action: str) -> tuple[str, ...]:
    return tuple(r for r in sorted(STAFF_ROLES) if has_permission(r, action))


# clinical pages reached from the account menu (the header bar keeps its width): (key, label,
# icon, href, the roles whose permissions open the page)
CLINICAL_LINKS = (
    ("products", "Products & stock", "package", "/products", _roles_with("product.read")),
    ("recall", "Lot recall", "search-check", "/recall", _roles_with("recall.read")),
    ("reviews", "Chart reviews", "file-check", "/reviews", _roles_with("chart.cosign")),
    ("campaigns", "Campaigns", "megaphone", "/campaigns", _roles_with("campaign.manage")),
)


# The width (px) of the links' bar from which the links are named; narrower, they are icons
# named by their title. Measured on the bar itself (a CSS container query: the room left
# beside the clinic's name and logo and the account menu), not the window: the calendar's
# open side panel narrows the page, a long clinic name takes room, and the owner's nine links
# need more than the front desk's five (at 1280 px with the panel open the owner's "Outbox"
# was clipped). Each figure is the role's named links' width plus a margin.
LABELS_FROM = {"owner": 1130, "manager": 880, "provider": 660}  # the Lab link (issue 17): owner, provider
LABELS_FROM_OTHERS = 580
NAV_CONTAINER = "staffnav"


def _label(label: str, weight: str | None) -> rx.Component:
    """The link's name, shown only when the header is wide enough for this role's links."""
    def named_from(px: int) -> rx.Component:
        return rx.text(label, size="2", weight=weight, white_space="nowrap", display="none",
                       style={f"@container {NAV_CONTAINER} (min-width: {px}px)": {"display": "block"}})
    return rx.match(StaffState.staff_role, *[(role, named_from(px)) for role, px in LABELS_FROM.items()],
                    named_from(LABELS_FROM_OTHERS))


def _nav_item(key: str, label: str, icon: str, href: str, active: str) -> rx.Component:
    inner = rx.hstack(rx.icon(icon, size=16), _label(label, "medium" if key == active else None),
                      align="center", spacing="2")
    if key == active:
        return rx.box(inner, padding_x="10px", padding_y="5px", border_radius="8px", background=rx.color("teal", 3),
                      color=rx.color("teal", 11), id=f"nav-{key}", aria_current="page", title=label, flex_shrink="0")
    return rx.link(inner, href=href, color=rx.color("gray", 11), underline="none", padding_x="10px",
                   padding_y="5px", border_radius="8px", id=f"nav-{key}", _hover={"background": rx.color("gray", 3)},
                   title=label, aria_label=label, flex_shrink="0")


def _for_roles(item: rx.Component, roles: tuple[str, ...] | None) -> rx.Component:
    """`item` only for the staff roles named (every role for None)."""
    if not roles:
        return item
    shown = StaffState.staff_role == roles[0]
    for role in roles[1:]:
        shown = shown | (StaffState.staff_role == role)
    return rx.cond(shown, item)


def _menu_link(key: str, label: str, icon: str, href: str, active: str) -> rx.Component:
    """A page link in the phone's nav menu (the current page marked)."""
    return rx.menu.item(
        rx.link(rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2"), align="center", spacing="2"),
                href=href, underline="none", color="inherit", width="100%", id=f"menu-nav-{key}"),
        color_scheme="teal" if key == active else "gray",
        aria_current="page" if key == active else None,
    )


def _nav_menu(active: str) -> rx.Component:
    """Below the sm breakpoint (phones) the pages are behind one menu button."""
    return rx.menu.root(
        rx.menu.trigger(rx.icon_button(rx.icon("menu", size=18), variant="soft", color_scheme="gray", size="2",
                                       id="nav-menu-button", aria_label="Pages", title="Pages")),
        rx.menu.content(*(_for_roles(_menu_link(key, label, icon, href, active), roles)
                          for key, label, icon, href, roles in NAV),
                        id="nav-menu", min_width="200px"),
        modal=False,
    )


def account_menu() -> rx.Component:
    """The signed-in person's menu at the right of every staff header, at every width: who
    they are, their account (password, two-factor) and sign out."""
    return rx.menu.root(
        rx.menu.trigger(rx.button(
            rx.avatar(fallback=StaffState.staff_name.to(str)[:1], size="1", radius="full", color_scheme="teal"),
            rx.icon("chevron-down", size=14),
            variant="ghost", color_scheme="gray", size="2", id="account-menu-button", aria_label="Account menu",
            title=StaffState.staff_name, padding_x="4px",
        )),
        rx.menu.content(
            rx.vstack(
                rx.text(StaffState.staff_name, size="2", weight="bold", id="account-menu-name"),
                rx.text(StaffState.staff_role.to(str).replace("_", " "), size="1", color_scheme="gray",
                        text_transform="capitalize"),
                rx.text(StaffState.org_name, size="1", color_scheme="gray"),
                spacing="0", padding="6px 12px",
            ),
            rx.menu.separator(),
            *[_for_roles(rx.menu.item(rx.link(
                rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2"), align="center", spacing="2"),
                href=href, underline="none", color="inherit", width="100%", id=f"account-menu-{key}")), roles)
              for key, label, icon, href, roles in CLINICAL_LINKS],
            rx.menu.item(rx.link(rx.hstack(rx.icon("user-cog", size=16), rx.text("Account & security", size="2"),
                                           align="center", spacing="2"),
                                 href="/account", underline="none", color="inherit", width="100%",
                                 id="account-menu-account")),
            rx.menu.separator(),
            native_form(
                rx.button(rx.icon("log-out", size=15), "Sign out", variant="ghost", color_scheme="gray", size="2",
                          type="submit", id="account-menu-sign-out", width="100%", justify_content="flex-start"),
                action=LOGOUT_ACTION, method="post", width="100%",
            ),
            id="account-menu", min_width="220px",
        ),
        modal=False,
    )


def staff_header(active: str, *extra: rx.Component) -> rx.Component:
    """The top bar of a staff page; `active` is the NAV key of this page, `extra` goes before
    the account menu (e.g. the calendar's "Live" dot). Fits 390 px and up: on a phone the
    pages are behind a menu button, on a tablet they are icons; the account menu (name, account,
    sign out) is always at hand."""
    items = [_for_roles(_nav_item(key, label, icon, href, active), roles) for key, label, icon, href, roles in NAV]
    return rx.hstack(
        rx.hstack(
            rx.cond(StaffState.org_logo != "",
                    rx.image(src=StaffState.org_logo, alt="", height="30px", width="auto", max_width="72px",
                             object_fit="contain", flex_shrink="0", id="clinic-header-logo"),
                    rx.center(rx.icon("flower-2", size=18, color="white"), width="30px", height="30px",
                              flex_shrink="0", border_radius="8px", background=rx.color("teal", 9))),
            rx.vstack(
                rx.text(StaffState.org_name, size="3", weight="bold", id="clinic-name", white_space="nowrap",
                        max_width=rx.breakpoints(initial="110px", sm="160px", md="180px"), overflow="hidden",
                        text_overflow="ellipsis", title=StaffState.org_name, line_height="1.2"),
                rx.text("medspa", size="1", color_scheme="gray", line_height="1.1"),
                spacing="0",
                min_width="0",
            ),
            rx.separator(orientation="vertical", size="1", height="20px"),
            rx.box(_nav_menu(active), display=rx.breakpoints(initial="block", sm="none")),
            # from a tablet up the links sit in the bar (scrolling sideways inside it if ever too many)
            rx.hstack(*items, spacing="1", align="center", id="staff-nav", as_="nav", overflow_x="auto",
                      min_width="0", flex="1",
                      style={"scrollbar_width": "none", "container_type": "inline-size",
                             "container_name": NAV_CONTAINER},
                      display=rx.breakpoints(initial="none", sm="flex")),
            spacing="3",
            align="center",
            min_width="0",
            flex="1",
        ),
        rx.hstack(
            *extra,
            rx.vstack(
                rx.text(StaffState.staff_name, size="2", weight="medium", id="staff-name", white_space="nowrap"),
                rx.text(StaffState.staff_role.to(str).replace("_", " "), size="1", color_scheme="gray",
                        text_transform="capitalize", id="staff-role"),
                spacing="0",
                display=rx.breakpoints(initial="none", xl="flex"),  # Radix xl: 1640 px; below, the menu names them
            ),
            account_menu(),
            # from xl only: below, it is in the account menu, and the named links need the room
            # (a long clinic name at 1366 px clipped the last link)
            sign_out_button(display=rx.breakpoints(initial="none", xl="inline-flex")),
            spacing="3",
            align="center",
            flex_shrink="0",
        ),
        justify="between",
        align="center",
        padding_x=rx.breakpoints(initial="10px", sm="20px"),
        height="56px",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 1),
        width="100%",
        spacing="3",
        id="staff-header",
    )


def not_found_view(id_: str) -> rx.Component:
    """What a staff page shows a role that may not use it: plain "not found"."""
    return rx.center(
        rx.vstack(
            rx.heading("Page not found", size="6"),
            rx.text("There is nothing at this address.", size="2", color_scheme="gray"),
            rx.cond(StaffState.staff_role == "lab",
                    rx.link("Back to the lab worklist", href=ROLE_HOMES["lab"], size="2"),
                    rx.link("Back to the calendar", href=HOME_PATH, size="2")),
            align="center", spacing="3",
        ),
        padding_top="18vh",
        id=id_,
    )

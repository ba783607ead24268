"""The message dialog of `/outbox`: the full message, its delivery facts and, for a failed
one, "Resend" (or "Send now" for a queued message no job will send) with a confirmation naming
the recipient (state: detail.MessageState)."""

from __future__ import annotations

import reflex as rx

from medspa.features.outbox.detail import MessageState


def _fact(label: str, value, id_: str, *, mono: bool = False) -> rx.Component:
    """A labelled fact; a `mono` one (an identifier) takes the grid's whole row."""
    if isinstance(value, rx.Component):
        text = value
    elif mono:
        text = rx.code(value, size="1", variant="ghost", word_break="break-all")
    else:
        text = rx.text(value, size="2")
    wide = {"grid_column": "1 / -1"} if mono else {}
    return rx.vstack(rx.text(label, size="1", weight="medium", color_scheme="gray"), text, spacing="0",
                     id=id_, min_width="0", **wide)


def _facts() -> rx.Component:
    v = MessageState.view
    return rx.grid(
        _fact("To", rx.vstack(rx.cond(v.client != "", rx.text(v.client, size="2", weight="medium")),
                              rx.text(v.address, size="2"), spacing="0"), "outbox-msg-to"),
        _fact("Written", v.created, "outbox-msg-created"),
        _fact("Attempts", v.attempts, "outbox-msg-attempts"),
        rx.cond(v.sent != "", _fact("Sent", v.sent, "outbox-msg-sent")),
        rx.cond(v.delivered != "", _fact("Delivered", v.delivered, "outbox-msg-delivered")),
        rx.cond(v.message_id != "", _fact("Message-ID", v.message_id, "outbox-msg-message-id", mono=True)),
        rx.cond(v.provider_id != "", _fact("Server's answer", v.provider_id, "outbox-msg-provider", mono=True)),
        columns=rx.breakpoints(initial="1", sm="3"), spacing="3", width="100%",
    )


def _body() -> rx.Component:
    v = MessageState.view
    return rx.vstack(
        rx.cond(v.subject != "", rx.text(v.subject, size="3", weight="bold", id="outbox-msg-subject")),
        rx.box(
            rx.cond(v.body_hidden,
                    rx.hstack(rx.icon("lock", size=14), rx.text(v.body, size="2", font_style="italic"),
                              color=rx.color("gray", 11), align="center", spacing="2"),
                    rx.text(v.body, size="2", white_space="pre-wrap", word_break="break-word")),
            padding="12px 14px", border_radius="8px", background=rx.color("gray", 2),
            border=f"1px solid {rx.color('gray', 5)}", max_height="38vh", overflow_y="auto", width="100%",
            id="outbox-msg-body",
        ),
        spacing="2", width="100%",
    )


def _resend_bar() -> rx.Component:
    s = MessageState
    v = s.view
    confirm = rx.vstack(
        rx.hstack(rx.icon("send", size=16, color=rx.color("teal", 11)),
                  rx.text("Send this ", rx.cond(v.channel.lower() == "sms", "SMS", "email"),
                          rx.cond(v.status == "queued", " now?", " again?"),
                          size="2", weight="bold"), align="center", spacing="2"),
        rx.text(v.resend_note, size="2", id="outbox-resend-note"),
        rx.hstack(
            rx.button("Cancel", variant="soft", color_scheme="gray", on_click=s.cancel_resend,
                      id="outbox-resend-cancel"),
            rx.button(rx.icon("send", size=14), rx.cond(v.status == "queued", "Send now", "Send again"),
                      on_click=s.resend, loading=s.resending,
                      id="outbox-resend-confirm"),
            justify="end", spacing="2", width="100%"),
        padding="12px", border_radius="8px", background=rx.color("teal", 2), border=f"1px solid {rx.color('teal', 6)}",
        spacing="2", width="100%", id="outbox-resend-box",
    )
    actions = rx.hstack(
        rx.cond((v.status == "failed") | (v.status == "queued"),
                rx.cond(v.resendable,
                        rx.hstack(rx.button(rx.icon("rotate-cw", size=14), v.resend_label, on_click=s.ask_resend,
                                            id="outbox-resend", flex_shrink="0"),
                                  rx.text(v.resend_note, size="1", color_scheme="gray", id="outbox-resend-hint"),
                                  align="center", spacing="3"),
                        rx.text(v.resend_note, size="1", color_scheme="gray", id="outbox-resend-refused"))),
        rx.spacer(),
        rx.button("Close", variant="soft", color_scheme="gray", on_click=s.close_message, id="outbox-msg-close"),
        align="center", width="100%", spacing="3",
    )
    return rx.cond(s.confirming, confirm, actions)


def message_dialog() -> rx.Component:
    """The dialog of the open message (or "not available")."""
    s = MessageState
    v = s.view
    return rx.dialog.root(
        rx.dialog.content(
            rx.vstack(
                rx.hstack(
                    rx.vstack(
                        rx.hstack(rx.badge(rx.icon(rx.cond(v.channel == "SMS", "message-square", "mail"), size=12),
                                           v.channel, variant="outline", color_scheme="gray"),
                                  rx.badge(v.badge, color_scheme=v.tone, variant="soft", radius="full",
                                           id="outbox-msg-status", custom_attrs={"data-status": v.status}),
                                  spacing="2", align="center"),
                        rx.dialog.title(rx.cond(v.id > 0, v.kind, "Message"), size="5", margin="0"),
                        spacing="2"),
                    rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray",
                                   on_click=s.close_message, aria_label="Close"),
                    justify="between", align="start", width="100%"),
                rx.cond(v.id > 0, rx.fragment(
                    _facts(),
                    rx.cond(v.failure_reason != "",
                            rx.callout(v.failure_reason, icon="circle-alert", color_scheme="red", size="1",
                                       width="100%", id="outbox-msg-failure")),
                    _body(),
                    rx.hstack(rx.icon("shield-check", size=13), rx.text(
                        "Opening this message was recorded in the audit trail.", size="1"),
                        color=rx.color("gray", 10), align="center", spacing="1"),
                )),
                rx.cond(s.notice != "", rx.callout(s.notice, icon="circle-check", color_scheme="grass", size="1",
                                                   width="100%", id="outbox-msg-notice")),
                rx.cond(s.msg_error != "", rx.callout(s.msg_error, icon="circle-alert", color_scheme="red",
                                                      size="1", width="100%", id="outbox-msg-error")),
                _resend_bar(),
                spacing="4", width="100%",
            ),
            max_width="720px", width="96vw", id="outbox-message",
            on_escape_key_down=s.close_message, on_pointer_down_outside=s.close_message,
        ),
        open=s.view_open,
    )

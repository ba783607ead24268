"""The owners' "Failed jobs" tab of `/outbox`: the job queue's dead letters (state:
detail.JobsState), with the message a delivery job was about one click away."""

from __future__ import annotations

import reflex as rx

from medspa.features.outbox.detail import JobView, JobsState


def _job_row(job: JobView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(job.task, size="2", weight="medium"),
                                rx.code(job.task_name, size="1", variant="ghost", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.text(job.when, size="2", white_space="nowrap")),
        rx.table.cell(rx.text(job.attempts, size="2"), justify="center"),
        rx.table.cell(rx.text(job.error, size="1", color=rx.color("red", 11), max_width="380px",
                              word_break="break-word")),
        rx.table.cell(rx.badge(job.scope, variant="soft", color_scheme=rx.cond(job.scope == "This clinic", "teal",
                                                                                 "gray"))),
        rx.table.cell(rx.cond(job.message_id > 0,
                              rx.button("Open message", size="1", variant="soft",
                                        on_click=JobsState.open_job_message(job.id)))),
        class_name="outbox-job-row",
        custom_attrs={"data-id": job.id},
    )


def jobs_panel() -> rx.Component:
    """The dead letters' table (or why it is empty)."""
    s = JobsState
    return rx.vstack(
        rx.text("Background jobs that failed their last attempt and will not run again on their own: email "
                "delivery, hold expiry and the queue's housekeeping. Jobs about every clinic show for every owner.",
                size="2", color_scheme="gray"),
        rx.cond(s.jobs_error != "", rx.callout(s.jobs_error, icon="circle-alert", color_scheme="red", size="1")),
        rx.card(
            rx.cond(
                s.jobs.length() > 0,
                rx.box(rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Task"), rx.table.column_header_cell("Failed"),
                        rx.table.column_header_cell("Attempts", justify="center"),
                        rx.table.column_header_cell("Error"), rx.table.column_header_cell("About"),
                        rx.table.column_header_cell(""))),
                    rx.table.body(rx.foreach(s.jobs, _job_row)),
                    size="2", variant="ghost", width="100%", id="outbox-jobs-table"), overflow_x="auto"),
                rx.center(rx.vstack(
                    rx.icon("circle-check", size=26, color=rx.color("grass", 9)),
                    rx.text("No failed jobs", size="3", weight="bold"),
                    rx.text("Every background job finished or is still being retried. An email or SMS "
                            "that could not be delivered is a failed message on the Messages tab: resend it "
                            "there.", size="2", color_scheme="gray", text_align="center", max_width="460px"),
                    align="center", spacing="2"), padding="40px 16px", id="outbox-jobs-empty"),
            ),
            width="100%", padding="0",
        ),
        spacing="3", width="100%",
    )

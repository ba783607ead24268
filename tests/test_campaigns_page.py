"""/campaigns rows as the page shows them (no database): the When column is the send time in
the clinic's zone (not when the last quiet-hours batch was written), the status reads Queued
while the messages sit in the outbox, skipped reasons are spelled out, and Send now asks with
the count preview's number."""

from __future__ import annotations

from medspa.domain.messaging.campaign_results import Results
from medspa.domain.messaging.campaigns import CampaignInfo
from medspa.features.campaigns.state import CampaignEditorState, CampaignsState
from tests.conftest import run_in_fresh_loop, utc
from tests.test_handlers import state_for


def _info(results: Results, status: str = "sent") -> CampaignInfo:
    return CampaignInfo(7, "Botox touch-up", "lapsed_neuromodulator", "Neuromodulator clients", {"months": 4},
                        "both", "s", "b", "t", status, scheduled_at=utc(2026, 11, 27, 15),
                        started_at=utc(2026, 11, 27, 15), finished_at=utc(2026, 11, 28, 5),
                        created_at=utc(2026, 11, 27, 14), results=results)


def test_a_row_shows_the_send_time_in_the_clinic_zone_and_what_really_happened():
    state = state_for(CampaignsState, None)
    state.zone = "America/New_York"
    row = state._row(_info(Results(queued=897, skipped=(("no marketing consent", 600), ("no mobile number", 63)))))
    assert row.when == "Fri, Nov 27, 2026, 10:00 AM EST (America/New_York)"  # not the 12:00 AM finish
    assert (row.status, row.status_label, row.queued, row.sent) == ("queued", "Queued", "897", "0")
    assert (row.skipped, row.skipped_reasons) == ("663", "no marketing consent: 600, no mobile number: 63")
    sent = state._row(_info(Results(sent=897, delivered=412)))
    assert (sent.status_label, sent.sent_text) == ("Sent", "897 sent, 412 of them confirmed delivered")


def test_send_now_asks_with_the_number_the_count_preview_reaches():
    from medspa.domain.messaging.segments import ChannelCount, SegmentCount

    class Done:
        ok, redirect = True, None

        def __init__(self, value):
            self.value = value

    editor = state_for(CampaignEditorState, None)
    for reached, question in ((2, "Send to 2 clients now?"), (1, "Send to 1 client now?")):
        async def act(action, *args, value=SegmentCount(3, (ChannelCount("email", reached, ()),), reached)):
            return Done(value)

        object.__setattr__(editor, "_act", act)
        run_in_fresh_loop(editor._recount())  # browser tests earlier keep a loop running here
        assert (editor.confirm_question, editor.count_text) == (question, "3 clients match")

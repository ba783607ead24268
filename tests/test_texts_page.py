"""The /texts list's lines (user trial, issue 19: the page said texts "need an answer" but
showed no number to answer on)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

from medspa.domain.messaging.inbound import InboundRow
from medspa.features.texts.page import flagged_view


def test_a_clients_flagged_text_shows_their_number_to_call_back():
    row = InboundRow(7, 42, "Mia Esposito", "+19085550178", "Running late", datetime(2026, 7, 1, 12, tzinfo=timezone.utc),
                     "", True, None, "", "Wed, Jul 1, 2026, 8:00 AM EDT", "+1 908-555-0178")
    line = flagged_view(row)
    assert (line.who, line.phone, line.phone_href, line.href) == (
        "Mia Esposito", "+1 908-555-0178", "tel:+19085550178", "/clients/42")
    stranger = flagged_view(dataclasses.replace(row, client_id=None, client_name=""))
    assert (stranger.who, stranger.phone, stranger.href) == ("+1 908-555-0178", "", "")

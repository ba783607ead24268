"""Use cases of scheduling: the staff calendar, the front desk and online booking.

Each action opens ONE tenant transaction (`medspa.domain.work.atomic`), checks the
permission (the services below check it), works through the scheduling services, writes
the audit row in that transaction (the services write it), commits at the end of the block,
and returns small frozen dataclasses, never ORM rows. Entry points (Reflex states, API
routes, the live loop, jobs) call these and nothing below them.

- `calendar`: what a calendar tab shows (`do_open_calendar`, `do_forget_tab`,
  `fetch_appointment_detail`, the desk's search by display code `find_visit_by_code`) and the
  live loop's reads (`fetch_watches`, `fetch_views`, `do_tidy_watches`); `ViewKey` names a view.
- `desk`: the desk's changes (`do_change_status`, `do_cancel_visit`, `do_checkout_visit`,
  `do_book_for_client`) and the booking dialog's reads (`fetch_client_hits`,
  `fetch_booking_options`).
- `daylist`: the daily lists of /today (`fetch_my_day`: the provider's own visits;
  `fetch_arrivals`: the desk's arrivals at a location); check-in there is `desk.do_change_status`.
- `online`: the public booking page and `/api/v1` (`fetch_clinic`, `fetch_services`,
  `fetch_availability`, `do_hold_slot`, `do_book_online`, ...), one `hold_minutes()`, and the
  hold-expiry sweep (`do_expire_lapsed_holds`).

Keyword-only extras everywhere: `clock` (None: the app clock), `engine` (None: the app
engine; tests pass theirs) and `gateway` where money moves (None: `payments.factory.gateway_of`).
"""

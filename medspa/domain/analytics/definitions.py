"""One-line definitions shown beside each figure on the dashboard: the one place for them.

The long form of each rule sits in the module that computes it (analytics/service.py for
visits, revenue.py for money, cohorts.py for retention, trends.py for trends and hours).
Keys are the dashboard's figure keys; tests check every dashboard figure has one.
"""

from __future__ import annotations

DEFINITIONS: dict[str, str] = {
    # visits (service.py)
    "no_show": "No-shows / visits that were due (completed + no-shows) on the local days of the range.",
    "cancellations": "Cancelled visits in the range; late = cancelled inside the location's cancellation window.",
    "booked_util": "Booked minutes (confirmed, checked in, completed, no-show) / providers' available working minutes.",
    "attended_util": "Attended minutes (completed visits) / providers' available working minutes.",
    "room_util": "Minutes rooms are booked (and attended) / minutes the location is open "
                 "(earliest to latest provider hours that weekday). A visit counts for its provider and its room.",
    "device_util": "Minutes devices are booked (and attended) / minutes the location is open. "
                   "A visit counts for its provider and its device.",
    "rebooking": "Completed visits after which the client booked a later visit (booked from the visit's start "
                 "to 90 days after it; not a series booked ahead) / completed visits.",
    "new_clients": "Clients whose first completed visit at the clinic falls in the range.",
    # trends (trends.py)
    "trend_no_show": "Per local month: no-shows / visits that were due; cancellations / visits scheduled "
                     "(early and late by the location's window).",
    "trend_rebooking": "Per local month: completed visits followed by a booking within 90 days "
                       "(and before leaving) / completed visits.",
    "busiest_hours": "Visits booked (confirmed, checked in, completed, no-show) by local weekday and starting hour.",
    # retention (cohorts.py)
    "retention": "Clients grouped by the local month of their first completed visit; share with another "
                 "completed visit within 90, 180 and 365 days of the first. Windows not yet over are blank.",
    # money (revenue.py), integer cents from the client ledger, by the ledger entry's local day
    "net_revenue": "Deposits + sales - deposits applied to those sales - refunds - processing fees: "
                   "the sum of the ledger lines, so a deposit that became part of a sale counts once.",
    "revenue_by_category": "Net revenue per local month, stacked by the visit's service category.",
    "sales": "Visit prices at checkout (the deposit already paid is inside the sale, not added again).",
    "average_ticket": "Sales / checkouts in the range.",
    "revenue_per_client": "Net revenue / clients with a ledger line in the range.",
    "top_services": "Services by sales at checkout in the range (count of checkouts and sales).",
}

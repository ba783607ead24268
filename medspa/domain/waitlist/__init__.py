"""The waitlist (issue 16, section 3): a client's wish for a time that is not free yet, and
the offers made when a matching time frees.

    models.py   the tables (waitlist_entry, waitlist_offer) and their statuses
    entries.py  adding (public page and desk), listing per day, closing, the booked entry closed
    offers.py   matching a freed time to the waiting entries and offering it (one at a time with
                a hold, or to all at once), the offer's link, the lapsed hold's next offer
    trigger.py  the job that does the matching, deferred in the transaction that freed the time
    actions.py  the use cases the pages and the job call
"""

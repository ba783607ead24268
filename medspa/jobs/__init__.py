"""Background work on the job queue (procrastinate on the app's PostgreSQL).

    app.py     the procrastinate App, its retry strategies, opening it on a database, and the
               queue's own housekeeping (stalled jobs are retried every 5 minutes)
    holds.py   hold expiry, a periodic task every minute
    email.py   email delivery over SMTP, one job per outbox email (deferred by the domain)
    sms.py     SMS delivery through Twilio, one job per outbox SMS (deferred by the domain)
    waitlist.py  offering a freed time to the waitlist, one job per freed time (deferred by the domain)
    worker.py  running a worker: `medspa worker` (a process of its own, several at once) or
               the one in-process worker thread of `medspa serve`'s parent process

An entry point like the pages and the routes: tasks parse their arguments and call one domain
action; no session, no SQL. A task about one clinic takes `org_id` as an argument (the
dead-letter read of domain/queue shows a clinic's owner the failed jobs that carry its
org_id, and those about every clinic). Nothing here connects at import time.
"""
